import { describe, expect, test } from "bun:test";
import { insideWorkDir, parseAddress, resolveWorkPath } from "../../../src/config/index.ts";

describe("paths", () => {
  test("resolveWorkPath: relative against the work dir, absolute kept", () => {
    expect(resolveWorkPath("/w", "var/log/x.log")).toBe("/w/var/log/x.log");
    expect(resolveWorkPath("/w", "/var/log/x.log")).toBe("/var/log/x.log");
  });

  test("insideWorkDir", () => {
    expect(insideWorkDir("/w", "var/db/v")).toBe("/w/var/db/v");
    expect(insideWorkDir("/w/", "./var//db/../db/v/")).toBe("/w/var/db/v");
    expect(insideWorkDir("/w", "/w/var/db/v")).toBe("/w/var/db/v");
    expect(insideWorkDir("/w", "..foo")).toBe("/w/..foo");
    for (const path of ["../x", "/etc", "a/../../b", ".", "", "/w", "/wx/y", "/"]) {
      expect({ path, inside: insideWorkDir("/w", path) }).toEqual({ path, inside: null });
    }
  });

  test("parseAddress", () => {
    expect(parseAddress("unix:///var/run/openedge.sock", "/w")).toEqual({
      kind: "unix",
      path: "/w/var/run/openedge.sock",
    });
    expect(parseAddress("unix:///var/run/docker.sock")).toEqual({
      kind: "unix",
      path: "/var/run/docker.sock",
    });
    expect(parseAddress("unix://relative.sock")).toBeNull();
    expect(parseAddress("tcp://127.0.0.1:50050")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 50050 });
    expect(parseAddress("tcp://:1883")).toEqual({ kind: "tcp", host: "", port: 1883 });
    expect(parseAddress("tcp://[::1]:80")).toEqual({ kind: "tcp", host: "::1", port: 80 });
    expect(parseAddress("tcp://localhost:65536")).toBeNull();
    expect(parseAddress("tcp://localhost")).toBeNull();
    expect(parseAddress("http://localhost:80")).toBeNull();
  });
});
