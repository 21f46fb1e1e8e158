import { describe, expect, test } from "bun:test";
import { parseDeviceMapping, parsePortMapping } from "../../../src/config/index.ts";

describe("port mappings", () => {
  test("accepted forms", () => {
    const one = (n: number) => ({ start: n, end: n });
    expect(parsePortMapping("1883")).toEqual({ spec: "1883", containerPort: one(1883), protocol: "tcp" });
    expect(parsePortMapping("1883:1883")).toMatchObject({ hostPort: one(1883), containerPort: one(1883) });
    expect(parsePortMapping("127.0.0.1:8080:80/tcp")).toMatchObject({
      hostIp: "127.0.0.1",
      hostPort: one(8080),
      containerPort: one(80),
      protocol: "tcp",
    });
    expect(parsePortMapping("0.0.0.0::53/udp")).toEqual({
      spec: "0.0.0.0::53/udp",
      hostIp: "0.0.0.0",
      containerPort: one(53),
      protocol: "udp",
    });
    expect(parsePortMapping("[::1]:53:53/sctp")).toMatchObject({
      hostIp: "::1",
      hostPort: one(53),
      protocol: "sctp",
    });
    expect(parsePortMapping("9000-9002:8000-8002")).toMatchObject({
      hostPort: { start: 9000, end: 9002 },
      containerPort: { start: 8000, end: 8002 },
    });
  });

  test("rejected forms", () => {
    for (const spec of [
      "",
      "abc",
      "0",
      "70000",
      "1883:70000",
      ":80",
      "localhost:80:80",
      "1.2.3.4.5:80:80",
      "300.0.0.1:80:80",
      "80/icmp",
      "1:2:3:4",
      "9000-9001:8000",
      "9001-9000:8001-8000",
      "[::1]:53",
      "[zz]:53:53",
    ]) {
      expect({ spec, parsed: parsePortMapping(spec) }).toEqual({ spec, parsed: null });
    }
  });
});

describe("device mappings", () => {
  test("accepted forms", () => {
    expect(parseDeviceMapping("/dev/video0")).toEqual({
      spec: "/dev/video0",
      host: "/dev/video0",
      container: "/dev/video0",
      permissions: "rwm",
    });
    expect(parseDeviceMapping("/dev/ttyUSB0:/dev/ttyUSB0:rwm")).toMatchObject({
      container: "/dev/ttyUSB0",
      permissions: "rwm",
    });
    expect(parseDeviceMapping("/dev/ttyUSB0:/dev/ttyS1")).toMatchObject({
      container: "/dev/ttyS1",
      permissions: "rwm",
    });
    expect(parseDeviceMapping("/dev/i2c-1:r")).toMatchObject({ container: "/dev/i2c-1", permissions: "r" });
  });

  test("rejected forms", () => {
    for (const spec of [
      "video0",
      "/dev/a:/dev/b:rwx",
      "/dev/a:/dev/b:rr",
      "/dev/a:b",
      "/dev/../etc/x",
      "/dev/",
      "/a:/b:r:x",
    ]) {
      expect({ spec, parsed: parseDeviceMapping(spec) }).toEqual({ spec, parsed: null });
    }
  });
});
