import { describe, expect, test } from "bun:test";
import { DEFAULT_OPENEDGE_YML, type OpenEdgeConfig } from "../../../src/config/index.ts";
import { openedge, openedgeErrors, WORK } from "./helpers.ts";

const MB = 1024 * 1024;

const DEFAULTS: OpenEdgeConfig = {
  mode: "native",
  grace: 30_000,
  server: {
    address: "unix:///var/run/openedge.sock",
    endpoint: { kind: "unix", path: `${WORK}/var/run/openedge.sock` },
    timeout: 300_000,
  },
  logger: {
    path: "var/log/openedge/openedge.log",
    file: `${WORK}/var/log/openedge/openedge.log`,
    level: "info",
    format: "text",
    size: { max: 50 * MB },
    backup: { max: 15 },
    age: { max: 15 },
    console: "auto",
  },
  otalog: {
    path: "var/db/openedge/ota.log",
    file: `${WORK}/var/db/openedge/ota.log`,
    level: "info",
    format: "json",
    size: { max: 50 * MB },
    backup: { max: 15 },
    age: { max: 15 },
    console: false,
  },
  bus: {
    address: "var/run/openedge.bus",
    socket: `${WORK}/var/run/openedge.bus`,
    codec: "msgpack",
    frame: { max: 4 * MB },
    queue: { size: 1024 },
    timeout: 30_000,
  },
  docker: {
    host: "unix:///var/run/docker.sock",
    endpoint: { kind: "unix", path: "/var/run/docker.sock" },
    network: "openedge",
  },
};

describe("openedge.yml", () => {
  test("an empty file gives every default", () => {
    expect(openedge("")).toEqual({ config: DEFAULTS, warnings: [] });
  });

  test("the shipped default file is exactly the defaults, with no warnings", () => {
    expect(openedge(DEFAULT_OPENEDGE_YML)).toEqual({ config: DEFAULTS, warnings: [] });
  });

  test("the shipped default file comments every field", () => {
    const lines = DEFAULT_OPENEDGE_YML.split("\n");
    let section = "";
    const uncommented: string[] = [];
    lines.forEach((line, i) => {
      if (/^[a-z]/.test(line)) section = line;
      // otalog repeats the logger's keys, documented there; `size:`-style groups are explained by their `max:`
      if (!/^\s*[a-z]+:/.test(line) || (section.startsWith("otalog:") && line !== section)) return;
      if (/^\s+(size|backup|age|frame|queue):$/.test(line)) return;
      if (!lines[i - 1]?.trim().startsWith("#")) uncommented.push(line);
    });
    expect(uncommented).toEqual([]);
  });

  test("every field can be set", () => {
    const { config, warnings } = openedge(`
mode: docker
grace: 90
server:
  address: tcp://127.0.0.1:50050
  tcp: tcp://0.0.0.0:50051
  timeout: 45s
logger:
  path: /var/log/openedge.log
  level: debug
  format: json
  size: {max: 10m}
  backup: {max: 3}
  age: {max: 0}
  console: true
otalog:
  path: ota.log
  level: error
  format: text
  size: {max: 2}
  backup: {max: 0}
  age: {max: 1}
  console: auto
bus:
  address: unix:///run/bus.sock
  codec: json
  frame: {max: 64k}
  queue: {size: 16}
  timeout: 2s
docker:
  host: tcp://10.0.0.2:2375
  network: edge-net
`);
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      mode: "docker",
      grace: 90_000,
      server: {
        address: "tcp://127.0.0.1:50050",
        endpoint: { kind: "tcp", host: "127.0.0.1", port: 50050 },
        tcp: { address: "tcp://0.0.0.0:50051", endpoint: { kind: "tcp", host: "0.0.0.0", port: 50051 } },
        timeout: 45_000,
      },
      logger: {
        path: "/var/log/openedge.log",
        file: "/var/log/openedge.log",
        level: "debug",
        format: "json",
        size: { max: 10 * MB },
        backup: { max: 3 },
        age: { max: 0 },
        console: true,
      },
      otalog: {
        path: "ota.log",
        file: `${WORK}/ota.log`,
        level: "error",
        format: "text",
        size: { max: 2 * MB },
        backup: { max: 0 },
        age: { max: 1 },
        console: "auto",
      },
      bus: {
        address: "unix:///run/bus.sock",
        socket: `${WORK}/run/bus.sock`,
        codec: "json",
        frame: { max: 64 * 1024 },
        queue: { size: 16 },
        timeout: 2000,
      },
      docker: {
        host: "tcp://10.0.0.2:2375",
        endpoint: { kind: "tcp", host: "10.0.0.2", port: 2375 },
        network: "edge-net",
      },
    });
  });

  test("a unix API address is inside the work dir, however many slashes", () => {
    for (const address of ["unix:///var/run/x.sock", "unix://var/run/x.sock"]) {
      expect(openedge(`server: {address: "${address}"}`).config.server.endpoint).toEqual({
        kind: "unix",
        path: `${WORK}/var/run/x.sock`,
      });
    }
  });

  test("port 0 is accepted (tests ask the OS for a port)", () => {
    expect(openedge("server: {address: 'tcp://127.0.0.1:0'}").config.server.endpoint).toEqual({
      kind: "tcp",
      host: "127.0.0.1",
      port: 0,
    });
  });

  test("every rule", () => {
    expect(
      openedgeErrors(`
mode: kubernetes
grace: soon
server:
  address: http://127.0.0.1:80
  tcp: unix:///var/run/x.sock
  timeout: -1
logger:
  path: ""
  level: verbose
  format: xml
  size: {max: -5}
  backup: {max: 1.5}
  age: {max: -1}
  console: sometimes
otalog: []
bus:
  codec: protobuf
  frame: {max: huge}
  queue: {size: 0}
  timeout: x
docker:
  host: unix://relative.sock
  network: "-bad"
`),
    ).toEqual([
      "mode: must be one of native, docker",
      "grace: must be a duration such as 500ms, 30s, 5m or 48h",
      "server.address: must be an address such as unix:///var/run/openedge.sock or tcp://127.0.0.1:50050",
      "server.tcp: must be a tcp:// address such as tcp://127.0.0.1:50050",
      "server.timeout: must be a duration such as 500ms, 30s, 5m or 48h",
      "logger.path: is required",
      "logger.level: must be one of debug, info, warn, error",
      "logger.format: must be one of text, json",
      "logger.size.max: must be a size such as 32k, 4m or 1g",
      "logger.backup.max: must be an integer >= 0",
      "logger.age.max: must be an integer >= 0",
      "logger.console: must be one of auto, true, false",
      "otalog: must be a mapping",
      "bus.codec: must be one of json, msgpack",
      "bus.frame.max: must be a size such as 32k, 4m or 1g",
      "bus.queue.size: must be an integer >= 1",
      "bus.timeout: must be a duration such as 500ms, 30s, 5m or 48h",
      "docker.host: must be an address such as unix:///var/run/openedge.sock or tcp://127.0.0.1:50050",
      "docker.network: must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$",
    ]);
  });

  test("unknown keys are warnings", () => {
    expect(openedge("mdoe: docker\nlogger: {levle: debug}\napi: {}").warnings).toEqual([
      'mdoe: unknown key (did you mean "mode"?)',
      'logger.levle: unknown key (did you mean "level"?)',
      "api: unknown key",
    ]);
  });
});
