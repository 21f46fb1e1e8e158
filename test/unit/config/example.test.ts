import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import {
  APPLICATION_YML_PATH,
  EXAMPLE_APPLICATION_YML,
  exampleWorkDir,
  OPENEDGE_YML_PATH,
} from "../../../src/config/index.ts";
import { app, openedge } from "./helpers.ts";

describe("example work dir", () => {
  test("the embedded example application passes validation with zero warnings", () => {
    const { app: a, warnings } = app(EXAMPLE_APPLICATION_YML);
    expect(warnings).toEqual([]);
    expect(a.services.map((s) => [s.name, s.builtin, s.replica])).toEqual([
      ["localhub", "openedge-hub", 1],
      ["function-manager", "openedge-function-manager", 1],
      ["function-sayhi", "openedge-function-python3", 0],
      ["function-sayjs", "openedge-function-node", 0],
    ]);
    expect(a.services[0]?.ports.map((p) => p.spec)).toEqual(["1883:1883"]);
  });

  test("lists every file init writes, each path relative and unique", () => {
    const files = exampleWorkDir();
    expect(files.map((f) => f.path)).toEqual([
      OPENEDGE_YML_PATH,
      APPLICATION_YML_PATH,
      "var/db/openedge/localhub-conf/service.yml",
      "var/db/openedge/function-manager-conf/service.yml",
      "var/db/openedge/function-sayhi-conf/service.yml",
      "var/db/openedge/function-sayhi-code/index.py",
      "var/db/openedge/function-sayjs-conf/service.yml",
      "var/db/openedge/function-sayjs-code/index.js",
    ]);
    for (const f of files) expect(f.content.length).toBeGreaterThan(0);
    // files holding the demo hub password are private
    expect(files.filter((f) => f.mode === 0o600).map((f) => f.path)).toEqual([
      "var/db/openedge/localhub-conf/service.yml",
      "var/db/openedge/function-manager-conf/service.yml",
    ]);
  });

  test("the written openedge.yml loads with no warnings", () => {
    const file = exampleWorkDir().find((f) => f.path === OPENEDGE_YML_PATH);
    expect(openedge(file?.content ?? "x").warnings).toEqual([]);
  });

  test("every config volume the application mounts at etc/openedge ships a service.yml", () => {
    const { app: a } = app(EXAMPLE_APPLICATION_YML);
    const paths = new Set(exampleWorkDir().map((f) => f.path));
    for (const s of a.services) {
      const conf = s.mounts.find((m) => m.path === "etc/openedge");
      const volume = a.volumes.find((v) => v.name === conf?.name);
      expect(paths.has(`${volume?.path}/service.yml`)).toBe(true);
    }
  });

  test("module configs have OpenEdge 0.1.x's shape", () => {
    const content = (p: string) => parse(exampleWorkDir().find((f) => f.path === p)?.content ?? "");
    const hub = content("var/db/openedge/localhub-conf/service.yml");
    expect(hub.listen).toEqual(["tcp://0.0.0.0:1883"]);
    expect(hub.principals[0]).toMatchObject({ username: "test", password: "hahaha" });
    const fm = content("var/db/openedge/function-manager-conf/service.yml");
    expect(fm.hub.address).toBe("tcp://127.0.0.1:1883");
    expect(fm.rules.map((r: { function: { name: string } }) => r.function.name)).toEqual(["sayhi", "sayjs"]);
    expect(fm.functions.map((f: { service: string }) => f.service)).toEqual([
      "function-sayhi",
      "function-sayjs",
    ]);
    const sayhi = content("var/db/openedge/function-sayhi-conf/service.yml");
    expect(sayhi.functions[0]).toEqual({
      name: "sayhi",
      handler: "index.handler",
      codedir: "var/db/openedge/function-sayhi",
    });
  });

  test("the example functions define their handlers", () => {
    const file = (p: string) => exampleWorkDir().find((f) => f.path === p)?.content ?? "";
    expect(file("var/db/openedge/function-sayhi-code/index.py")).toContain("def handler(event, context):");
    const js = file("var/db/openedge/function-sayjs-code/index.js");
    const module = { exports: {} as { handler?: (e: unknown, c: unknown) => unknown } };
    new Function("module", "exports", "Buffer", js)(module, module.exports, Buffer);
    expect(module.exports.handler?.({ a: 1 }, { messageTopic: "t" })).toEqual({
      a: 1,
      messageTopic: "t",
      say: "hello from javascript",
    });
    expect(module.exports.handler?.(Buffer.from("hi"), {})).toEqual({
      bytes: "hi",
      say: "hello from javascript",
    });
  });
});
