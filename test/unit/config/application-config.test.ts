import { describe, expect, test } from "bun:test";
import type { ServiceConfig } from "../../../src/config/index.ts";
import { app, appErrors, service, WORK } from "./helpers.ts";

describe("application.yml", () => {
  test("an empty file is an application with no services", () => {
    expect(app("")).toEqual({ app: { version: "", services: [], volumes: [] }, warnings: [] });
  });

  test("a service gets every default", () => {
    const { app: a, warnings } = app("services:\n  - name: s\n    image: example/s");
    expect(warnings).toEqual([]);
    expect(a.services[0]).toEqual({
      name: "s",
      image: "example/s",
      builtin: null,
      replica: 1,
      mounts: [],
      ports: [],
      devices: [],
      args: [],
      env: {},
      restart: { retry: { max: 0 }, policy: "always", backoff: { min: 1000, max: 300_000, factor: 2 } },
      resources: { cpu: {}, memory: {}, pids: {} },
      isolation: "inproc",
    } satisfies ServiceConfig);
  });

  test("every service field", () => {
    const { app: a, warnings } = app(`
version: 1.10
services:
  - name: cam.reader_1
    image: hub.baidubce.com/openedge/openedge-hub:0.1.5
    replica: 0
    isolation: process
    ports: [1883, "8080:80", "127.0.0.1:5000-5001:6000-6001/udp"]
    devices: [/dev/video0, "/dev/ttyUSB0:/dev/ttyS0:rw"]
    args: [-v, 2, true]
    env: {A: x, N: 25, B: false, E: }
    runtime: nvidia
    restart:
      retry: {max: 5}
      policy: on-failure
      backoff: {min: 500ms, max: 1m, factor: 1.5}
    resources:
      cpu: {cpus: 0.5, setcpus: "0-1,3"}
      memory: {limit: 256m, swap: 1g}
      pids: {limit: 64}
    mounts:
      - {name: v, path: etc/openedge, readonly: true}
      - {name: v, path: /data}
volumes:
  - {name: v, path: var/db/openedge/v}
`);
    expect(warnings).toEqual([]);
    expect(a.version).toBe("1.10");
    expect(a.services[0]).toEqual({
      name: "cam.reader_1",
      image: "hub.baidubce.com/openedge/openedge-hub:0.1.5",
      builtin: "openedge-hub",
      replica: 0,
      mounts: [
        { name: "v", path: "etc/openedge", readonly: true },
        { name: "v", path: "/data", readonly: false },
      ],
      ports: [
        { spec: "1883", containerPort: { start: 1883, end: 1883 }, protocol: "tcp" },
        {
          spec: "8080:80",
          hostPort: { start: 8080, end: 8080 },
          containerPort: { start: 80, end: 80 },
          protocol: "tcp",
        },
        {
          spec: "127.0.0.1:5000-5001:6000-6001/udp",
          hostIp: "127.0.0.1",
          hostPort: { start: 5000, end: 5001 },
          containerPort: { start: 6000, end: 6001 },
          protocol: "udp",
        },
      ],
      devices: [
        { spec: "/dev/video0", host: "/dev/video0", container: "/dev/video0", permissions: "rwm" },
        {
          spec: "/dev/ttyUSB0:/dev/ttyS0:rw",
          host: "/dev/ttyUSB0",
          container: "/dev/ttyS0",
          permissions: "rw",
        },
      ],
      args: ["-v", "2", "true"],
      env: { A: "x", N: "25", B: "false", E: "" },
      restart: { retry: { max: 5 }, policy: "on-failure", backoff: { min: 500, max: 60_000, factor: 1.5 } },
      resources: {
        cpu: { cpus: 0.5, setcpus: "0-1,3" },
        memory: { limit: 256 * 1024 ** 2, swap: 1024 ** 3 },
        pids: { limit: 64 },
      },
      runtime: "nvidia",
      isolation: "process",
    } satisfies ServiceConfig);
  });

  test("volumes: path as written, hostPath absolute, meta", () => {
    const { app: a } = app(`
volumes:
  - name: conf
    path: var/db/openedge/conf
    meta: {url: "https://example.com/conf.zip", md5: 0123456789abcdef0123456789abcdef, version: v2}
  - name: abs
    path: ${WORK}/var/db/abs
`);
    expect(a.volumes).toEqual([
      {
        name: "conf",
        path: "var/db/openedge/conf",
        hostPath: `${WORK}/var/db/openedge/conf`,
        meta: { url: "https://example.com/conf.zip", md5: "0123456789abcdef0123456789abcdef", version: "v2" },
      },
      { name: "abs", path: `${WORK}/var/db/abs`, hostPath: `${WORK}/var/db/abs` },
    ]);
  });

  describe("rules", () => {
    test("service name and image are required; name pattern", () => {
      expect(appErrors("services:\n  - replica: 1\n  - name: -x\n    image: i")).toEqual([
        "services[0].name: is required",
        "services[0].image: is required",
        "services[1].name: must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$",
      ]);
      expect(appErrors(`services:\n  - name: ${"a".repeat(65)}\n    image: i`)).toEqual([
        "services[0].name: must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$",
      ]);
      expect(appErrors("services:\n  - name: a\n    image: my image")).toEqual([
        "services[0].image: must not contain whitespace",
      ]);
    });

    test("replica must be an integer >= 0", () => {
      expect(appErrors(service("    replica: -1"))).toEqual(["services[0].replica: must be an integer >= 0"]);
      expect(appErrors(service("    replica: two"))).toEqual([
        "services[0].replica: must be an integer >= 0",
      ]);
    });

    test("restart", () => {
      expect(
        appErrors(
          service(
            "    restart:\n      retry: {max: -1}\n      policy: sometimes\n      backoff: {min: x, factor: 0.5}",
          ),
        ),
      ).toEqual([
        "services[0].restart.retry.max: must be an integer >= 0",
        "services[0].restart.policy: must be one of always, on-failure, no",
        "services[0].restart.backoff.min: must be a duration such as 500ms, 30s, 5m or 48h",
        "services[0].restart.backoff.factor: must be a number >= 1",
      ]);
      expect(appErrors(service("    restart: {backoff: {min: 1m, max: 10s}}"))).toEqual([
        "services[0].restart.backoff.max: must not be less than backoff.min",
      ]);
    });

    test("resources", () => {
      expect(
        appErrors(
          service(
            "    resources:\n      cpu: {cpus: 0, setcpus: 0-1;3}\n      memory: {limit: lots, swap: -1}\n      pids: {limit: 0}",
          ),
        ),
      ).toEqual([
        "services[0].resources.cpu.cpus: must be a number > 0",
        "services[0].resources.cpu.setcpus: must match ^\\d+(-\\d+)?(,\\d+(-\\d+)?)*$",
        "services[0].resources.memory.limit: must be a size such as 32k, 4m or 1g",
        "services[0].resources.memory.swap: must be a size such as 32k, 4m or 1g",
        "services[0].resources.pids.limit: must be an integer >= 1",
      ]);
    });

    test("ports, devices, args, env, isolation, runtime", () => {
      expect(
        appErrors(
          service(
            '    ports: ["70000:80", "localhost:80:80"]\n    devices: [video0, "/dev/a:/dev/b:rwx"]\n    args: [[x]]\n    env: {"A=B": x, N: {a: 1}}\n    isolation: thread\n    runtime: [x]',
          ),
        ),
      ).toEqual([
        "services[0].ports[0]: must be a port mapping such as 1883, 1883:1883 or 127.0.0.1:8080:80/tcp",
        "services[0].ports[1]: must be a port mapping such as 1883, 1883:1883 or 127.0.0.1:8080:80/tcp",
        "services[0].devices[0]: must be a device such as /dev/video0 or /dev/ttyUSB0:/dev/ttyUSB0:rwm",
        "services[0].devices[1]: must be a device such as /dev/video0 or /dev/ttyUSB0:/dev/ttyUSB0:rwm",
        "services[0].args[0]: must be a string",
        'services[0].env.A=B: must not be empty or contain "="',
        "services[0].env.N: must be a string",
        "services[0].isolation: must be one of inproc, process",
        "services[0].runtime: must be a string",
      ]);
    });

    test("mounts: declared volume, required name and path, no .. segments, readonly boolean", () => {
      expect(
        appErrors(
          service(
            "    mounts:\n      - {name: v, path: a}\n      - {name: x, path: b}\n      - {path: c}\n      - {name: v}\n      - {name: v, path: a/../../x}\n      - {name: v, path: d, readonly: yes}",
            "  - {name: v, path: v}",
          ),
        ),
      ).toEqual([
        'services[0].mounts[1].name: volume "x" is not declared',
        "services[0].mounts[2].name: is required",
        "services[0].mounts[3].path: is required",
        'services[0].mounts[4].path: must not contain ".." segments',
        "services[0].mounts[5].readonly: must be true or false",
      ]);
    });

    test("two mounts on the same path in one service", () => {
      expect(
        appErrors(
          service(
            "    mounts:\n      - {name: v, path: etc/openedge}\n      - {name: w, path: ./etc/openedge/}",
            "  - {name: v, path: v}\n  - {name: w, path: w}",
          ),
        ),
      ).toEqual(['services[0].mounts[1].path: "./etc/openedge/" is already mounted by mounts[0]']);
    });

    test("the same path in two services is fine", () => {
      const text = `services:
  - {name: a, image: i, mounts: [{name: v, path: p}]}
  - {name: b, image: i, mounts: [{name: v, path: p}]}
volumes: [{name: v, path: v}]`;
      expect(app(text).app.services).toHaveLength(2);
    });

    test("duplicate service and volume names", () => {
      expect(
        appErrors(`services:
  - {name: a, image: i}
  - {name: b, image: i}
  - {name: a, image: i}
volumes:
  - {name: v, path: v1}
  - {name: v, path: v2}`),
      ).toEqual([
        'services[2].name: "a" is already used by services[0]',
        'volumes[1].name: "v" is already used by volumes[0]',
      ]);
    });

    test("volume name and path", () => {
      expect(appErrors("volumes:\n  - {name: a.b, path: x}\n  - {path: x}\n  - {name: c}")).toEqual([
        "volumes[0].name: must match ^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$",
        "volumes[1].name: is required",
        "volumes[2].path: is required",
      ]);
    });

    test("volume paths must stay inside the work dir", () => {
      const escapes = ["../x", "/etc", "a/../../b", ".", "a/..", `${WORK}-other/x`, "/"];
      const text = `volumes:\n${escapes.map((p, i) => `  - {name: v${i}, path: "${p}"}`).join("\n")}`;
      expect(appErrors(text)).toEqual(
        escapes.map((_, i) => `volumes[${i}].path: must stay inside the work dir`),
      );
    });

    test("volume meta", () => {
      expect(
        appErrors(
          "volumes:\n  - {name: v, path: v, meta: {url: 'ftp://x/y', md5: abc, version: [1], size: 1}}",
        ),
      ).toEqual([
        "volumes[0].meta.url: must be an http, https or file URL",
        "volumes[0].meta.md5: must match ^[a-fA-F0-9]{32}$",
        "volumes[0].meta.version: must be a string",
      ]);
    });

    test("services and volumes must be lists, each item a mapping", () => {
      expect(appErrors("services: {name: a}\nvolumes: [x]")).toEqual([
        "services: must be a list",
        "volumes[0]: must be a mapping",
      ]);
    });
  });

  describe("warnings", () => {
    test("unknown keys name their path", () => {
      expect(
        app("services:\n  - name: a\n    image: i\n    imgae: j\n    restart: {polcy: x}\nvolumse: []")
          .warnings,
      ).toEqual([
        'services[0].imgae: unknown key (did you mean "image"?)',
        'services[0].restart.polcy: unknown key (did you mean "policy"?)',
        'volumse: unknown key (did you mean "volumes"?)',
      ]);
    });

    test("isolation on a user image is ignored, and says so", () => {
      expect(app("services:\n  - {name: a, image: example/a, isolation: process}").warnings).toEqual([
        "services[0].isolation: only applies to built-in images; ignored",
      ]);
    });

    test("OpenEdge runtime images we do not ship point at the built-in", () => {
      expect(
        app("services:\n  - {name: a, image: 'hub.baidubce.com/openedge/openedge-function-python27:0.1.4'}")
          .warnings,
      ).toEqual([
        '"hub.baidubce.com/openedge/openedge-function-python27:0.1.4" is not built in; use openedge-function-python3'.replace(
          /^/,
          "services[0].image: ",
        ),
      ]);
    });
  });
});
