import { describe, expect, test } from "bun:test";
import { parseApplicationConfig } from "../../../src/config/index.ts";
import { diffApplications, toServiceSpec } from "../../../src/master/service-spec.ts";
import { systemEnv } from "../../../src/master/system-env.ts";

const WD = "/srv/oe";
const parse = (text: string) => parseApplicationConfig(text, { env: {}, workDir: WD }).app;

const base = `
services:
  - name: hub
    image: hub-pkg
    replica: 2
    mounts: [{name: conf, path: etc/openedge, readonly: true}]
    restart: {policy: on-failure, retry: {max: 3}, backoff: {min: 2s, max: 1m, factor: 3}}
    resources: {cpu: {cpus: 0.5}, memory: {limit: 64m}, pids: {limit: 50}}
  - name: app
    image: app-pkg
volumes:
  - name: conf
    path: var/db/openedge/conf
`;

test("a service maps onto the engine's spec with host paths, ms and bytes", () => {
  const app = parse(base);
  const spec = toServiceSpec(app.services[0]!, app, 15_000);
  expect(spec).toEqual({
    name: "hub",
    image: "hub-pkg",
    replica: 2,
    mounts: [{ hostPath: `${WD}/var/db/openedge/conf`, path: "etc/openedge", readonly: true }],
    ports: [],
    devices: [],
    args: [],
    env: {},
    restart: { policy: "on-failure", retryMax: 3, backoff: { minMs: 2000, maxMs: 60_000, factor: 3 } },
    resources: { cpu: { cpus: 0.5 }, memory: { limitBytes: 64 * 1024 * 1024 }, pids: { limit: 50 } },
    graceMs: 15_000,
  });
  expect(toServiceSpec(app.services[1]!, app, 1).resources).toEqual({});
});

describe("diffApplications", () => {
  test("identical applications change nothing", () => {
    const d = diffApplications(parse(base), parse(base));
    expect(d.unchanged.map((s) => s.name)).toEqual(["hub", "app"]);
    expect([d.added, d.changed, d.removed].flat()).toEqual([]);
  });

  test("a changed field, an added and a removed service", () => {
    const after = parse(
      base
        .replace("image: app-pkg", "image: app-pkg\n    env: {A: b}")
        .replace("  - name: hub", "  - name: new\n    image: n\n  - name: hub"),
    );
    const d = diffApplications(parse(base), after);
    expect(d.added.map((s) => s.name)).toEqual(["new"]);
    expect(d.changed.map((s) => s.name)).toEqual(["app"]);
    expect(d.unchanged.map((s) => s.name)).toEqual(["hub"]);
    const removed = diffApplications(
      parse(base),
      parse(base.replace(/ {2}- name: app\n {4}image: app-pkg\n/, "")),
    );
    expect(removed.removed.map((s) => s.name)).toEqual(["app"]);
  });

  test("a volume moved to another path changes the services that mount it, and only those", () => {
    const d = diffApplications(
      parse(base),
      parse(base.replace("path: var/db/openedge/conf", "path: var/db/openedge/conf2")),
    );
    expect(d.changed.map((s) => s.name)).toEqual(["hub"]);
    expect(d.unchanged.map((s) => s.name)).toEqual(["app"]);
  });

  test("a new volume version changes the services that mount it", () => {
    const withMeta = (v: string) =>
      base.replace("path: var/db/openedge/conf", `path: var/db/openedge/conf\n    meta: {version: "${v}"}`);
    expect(diffApplications(parse(withMeta("1")), parse(withMeta("2"))).changed.map((s) => s.name)).toEqual([
      "hub",
    ]);
  });
});

test("system env: OpenEdge's variables, which a start request's keys cannot override", () => {
  const env = systemEnv({
    hostOs: "linux",
    hostId: "h1",
    mode: "native",
    service: "fm",
    instance: "fm.i1",
    token: "tok",
    dynamic: { OPENEDGE_SERVICE_INSTANCE_ADDRESS: "unix://x.sock", OPENEDGE_SERVICE_TOKEN: "forged" },
  });
  expect(env).toEqual({
    OPENEDGE_SERVICE_INSTANCE_ADDRESS: "unix://x.sock",
    OPENEDGE_HOST_OS: "linux",
    OPENEDGE_HOST_ID: "h1",
    OPENEDGE_MASTER_API: "unix://var/run/openedge.sock",
    OPENEDGE_MASTER_API_VERSION: "v1",
    OPENEDGE_RUNNING_MODE: "native",
    OPENEDGE_SERVICE_NAME: "fm",
    OPENEDGE_SERVICE_TOKEN: "tok",
    OPENEDGE_SERVICE_INSTANCE_NAME: "fm.i1",
  });
});
