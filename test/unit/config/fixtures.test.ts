// The fixture work dir under test/fixtures/config: a valid tree, and application.yml files with the
// mistakes operators make, each loaded from disk as the master does.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ConfigError, loadApplicationConfig, loadOpenEdgeConfig } from "../../../src/config/index.ts";
import { configError } from "./helpers.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures/config");
const VALID = join(FIXTURES, "valid");
const env = { OPENEDGE_DEVICE: "pi-7" };

function brokenApp(name: string, workDir = VALID): string[] {
  return configError(() => loadApplicationConfig(join(FIXTURES, "broken", name), { env: {}, workDir }))
    .issues;
}

describe("fixture work dir", () => {
  test("the valid tree loads with no warnings", () => {
    const { config, warnings } = loadOpenEdgeConfig(join(VALID, "etc/openedge/openedge.yml"), {
      env,
      workDir: VALID,
    });
    expect(warnings).toEqual([]);
    expect(config.mode).toBe("docker");
    expect(config.grace).toBe(90_000);
    expect(config.otalog.file).toBe(join(VALID, "var/db/openedge/ota-pi-7.log"));
    expect(config.otalog.size.max).toBe(1024 * 1024);
    expect(config.bus.socket).toBe(join(VALID, "var/run/bus.sock"));

    const loaded = loadApplicationConfig(join(VALID, "var/db/openedge/application.yml"), {
      env,
      workDir: VALID,
    });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.app.version).toBe("1.10");
    expect(loaded.app.services.map((s) => s.name)).toEqual(["hub", "camera.reader"]);
    expect(loaded.app.services[1]?.env).toEqual({ DEVICE_ID: "pi-7", RATE: "25", DEBUG: "false", EMPTY: "" });
    expect(loaded.app.volumes.map((v) => v.hostPath)).toEqual([
      join(VALID, "var/db/openedge/hub-conf"),
      join(VALID, "var/db/openedge/hub-data"),
    ]);
  });

  test("missing files give the defaults and an empty application", () => {
    const missing = join(FIXTURES, "does-not-exist.yml");
    expect(loadOpenEdgeConfig(missing, { env: {}, workDir: VALID }).config.mode).toBe("native");
    expect(loadApplicationConfig(missing, { env: {}, workDir: VALID })).toEqual({
      app: { version: "", services: [], volumes: [] },
      warnings: [],
    });
  });

  test("a file that cannot be read is a ConfigError naming it", () => {
    const e = configError(() => loadApplicationConfig(FIXTURES, { env: {}, workDir: VALID }));
    expect(e.issues).toEqual(["cannot read the file: EISDIR"]);
    expect(e.message).toContain(FIXTURES);
  });

  test("the error message names the file and lines", () => {
    const file = join(FIXTURES, "broken/undeclared-volume.yml");
    try {
      loadApplicationConfig(file, { env: {}, workDir: VALID });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe(
        `invalid config file "${file}" (1 error):\n  services[0].mounts[1].name: volume "hub-config" is not declared (line 8)`,
      );
      return;
    }
    throw new Error("expected an error");
  });

  test("broken: undeclared volume", () => {
    expect(brokenApp("undeclared-volume.yml")).toEqual([
      'services[0].mounts[1].name: volume "hub-config" is not declared',
    ]);
  });

  test("broken: duplicate names and mount paths", () => {
    expect(brokenApp("duplicate-names.yml")).toEqual([
      'services[0].mounts[1].path: "./etc/openedge/" is already mounted by mounts[0]',
      'services[1].name: "hub" is already used by services[0]',
      'volumes[2].name: "conf" is already used by volumes[0]',
    ]);
  });

  test("broken: restart settings", () => {
    expect(brokenApp("bad-restart.yml")).toEqual([
      "services[0].restart.retry.max: must be an integer >= 0",
      "services[0].restart.policy: must be one of always, on-failure, no",
      "services[0].restart.backoff.min: must be a duration such as 500ms, 30s, 5m or 48h",
      "services[0].restart.backoff.factor: must be a number >= 1",
      "services[1].restart.backoff.max: must not be less than backoff.min",
    ]);
  });

  test("broken: paths escaping the work dir", () => {
    expect(brokenApp("volume-escape.yml")).toEqual([
      'services[0].mounts[0].path: must not contain ".." segments',
      "volumes[0].path: must stay inside the work dir",
      "volumes[1].path: must stay inside the work dir",
      "volumes[2].path: must stay inside the work dir",
      "volumes[3].path: must stay inside the work dir",
      "volumes[4].name: must match ^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$",
    ]);
  });

  test("broken: wrong types and shapes, all reported at once", () => {
    expect(brokenApp("bad-types.yml")).toEqual([
      "services[0].name: must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$",
      "services[0].image: must not contain whitespace",
      "services[0].replica: must be an integer >= 0",
      "services[0].isolation: must be one of inproc, process",
      "services[0].ports[1]: must be a port mapping such as 1883, 1883:1883 or 127.0.0.1:8080:80/tcp",
      "services[0].ports[2]: must be a port mapping such as 1883, 1883:1883 or 127.0.0.1:8080:80/tcp",
      "services[0].devices[0]: must be a device such as /dev/video0 or /dev/ttyUSB0:/dev/ttyUSB0:rwm",
      "services[0].devices[1]: must be a device such as /dev/video0 or /dev/ttyUSB0:/dev/ttyUSB0:rwm",
      "services[0].args[1]: must be a string",
      "services[0].env.NESTED: must be a string",
      "services[0].resources.cpu.cpus: must be a number > 0",
      "services[0].resources.cpu.setcpus: must match ^\\d+(-\\d+)?(,\\d+(-\\d+)?)*$",
      "services[0].resources.memory.limit: must be a size such as 32k, 4m or 1g",
      "services[0].resources.pids.limit: must be an integer >= 1",
      "services[0].mounts: must be a list",
      "services[1]: must be a mapping",
      "volumes[0].meta.url: must be an http, https or file URL",
      "volumes[0].meta.md5: must match ^[a-fA-F0-9]{32}$",
    ]);
  });

  test("broken: YAML syntax", () => {
    expect(brokenApp("syntax-error.yml")).toEqual(["invalid YAML: Sequence item without - indicator"]);
  });

  test("broken: unset variables (a placeholder in a comment is ignored)", () => {
    expect(brokenApp("missing-env.yml")).toEqual([
      'services[0].image: environment variable "HUB_IMAGE" is not set',
      'services[0].env.PASSWORD: environment variable "HUB_PASSWORD" is not set',
      'services[0].env.USER: environment variable "HUB_USER" is not set',
    ]);
  });

  test("typos load, with a warning for each", () => {
    const { warnings } = loadApplicationConfig(join(FIXTURES, "broken/typos.yml"), {
      env: {},
      workDir: VALID,
    });
    expect(warnings).toEqual([
      'services[0].imgae: unknown key (did you mean "image"?)',
      'services[0].replcia: unknown key (did you mean "replica"?)',
      'services[0].restart.polcy: unknown key (did you mean "policy"?)',
      "services[1].isolation: only applies to built-in images; ignored",
      "extra: unknown key",
    ]);
  });

  test("broken openedge.yml", () => {
    const file = join(FIXTURES, "broken/bad-openedge.yml");
    expect(configError(() => loadOpenEdgeConfig(file, { env: {}, workDir: VALID })).issues).toEqual([
      "mode: must be one of native, docker",
      "grace: must be a duration such as 500ms, 30s, 5m or 48h",
      "server.address: must be an address such as unix:///var/run/openedge.sock or tcp://127.0.0.1:50050",
      "server.tcp: must be a tcp:// address such as tcp://127.0.0.1:50050",
      "logger.level: must be one of debug, info, warn, error",
      "logger.format: must be one of text, json",
      "logger.size.max: must be a size such as 32k, 4m or 1g",
      "logger.backup.max: must be an integer >= 0",
      "logger.console: must be one of auto, true, false",
      "bus.codec: must be one of json, msgpack",
      "bus.queue.size: must be an integer >= 1",
      "docker.host: must be an address such as unix:///var/run/openedge.sock or tcp://127.0.0.1:50050",
      "docker.network: must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$",
    ]);
  });
});
