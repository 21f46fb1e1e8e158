// What an in-process built-in gets from the runner: earlier built-ins by image, and dynamic instances
// of engine services started the way the API's start does (system env + the keys it passes, never
// forged identity keys).

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenStore } from "../../../src/api/index.ts";
import { parseApplicationConfig, parseOpenEdgeConfig } from "../../../src/config/index.ts";
import { Supervisor } from "../../../src/engine/index.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";
import { silentLogger } from "../../../src/log/index.ts";
import { ApplicationRunner } from "../../../src/master/application-runner.ts";
import type { BuiltinContext, InprocService } from "../../../src/master/builtin-host.ts";
import { FakeEngine } from "../../fixtures/engine/fake-engine.ts";

const APP = `version: v1
services:
  - name: hub
    image: openedge-hub
  - name: fm
    image: openedge-function-manager
  - name: fn
    image: fn-pkg
    replica: 0
`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const root = mkdtempSync(join(tmpdir(), "oe-bctx-"));
  dirs.push(root);
  const opts = { env: {}, workDir: root };
  const { config } = parseOpenEdgeConfig("", opts);
  const clock = new FakeClock(0);
  const engine = new FakeEngine(clock);
  const supervisor = new Supervisor({ engine, clock, log: silentLogger, random: () => 0.5 });
  const tokens = new TokenStore();
  const hubHandle: InprocService = { stop: async () => {} };
  let fmContext: BuiltinContext | undefined;
  const runner = new ApplicationRunner({
    supervisor,
    tokens,
    catalog: {
      "openedge-hub": async () => hubHandle,
      "openedge-function-manager": async (ctx) => {
        fmContext = ctx;
        return { stop: async () => {} };
      },
    },
    config,
    host: { os: "linux", id: "host-1" },
    log: silentLogger,
  });
  const app = parseApplicationConfig(APP, opts).app;
  runner.setApplication(app);
  return { runner, engine, tokens, hubHandle, context: () => fmContext as BuiltinContext };
}

test("a built-in reaches an earlier in-process built-in by image, and sees the application", async () => {
  const s = setup();
  expect(await s.runner.startServices(s.runner.application.services)).toEqual([]);
  const ctx = s.context();
  expect(ctx.builtin("openedge-hub")).toBe(s.hubHandle);
  expect(ctx.builtin("openedge-agent")).toBeUndefined();
  expect(ctx.application.services.map((x) => x.name)).toEqual(["hub", "fm", "fn"]);
});

test("instances.start composes the system env with the given keys, as the API's start does", async () => {
  const s = setup();
  await s.runner.startServices(s.runner.application.services);
  const ctx = s.context();
  await ctx.instances.start("fn", "fn.f.0", {
    OPENEDGE_SERVICE_INSTANCE_ADDRESS: "unix:///tmp/f.sock",
    OPENEDGE_SERVICE_TOKEN: "forged",
    OPENEDGE_SERVICE_NAME: "hub",
  });
  const env = s.engine.latest("fn.f.0").env;
  expect(env.OPENEDGE_SERVICE_INSTANCE_ADDRESS).toBe("unix:///tmp/f.sock");
  expect(env.OPENEDGE_SERVICE_NAME).toBe("fn");
  expect(env.OPENEDGE_SERVICE_INSTANCE_NAME).toBe("fn.f.0");
  expect(env.OPENEDGE_HOST_ID).toBe("host-1");
  expect(env.OPENEDGE_SERVICE_TOKEN).not.toBe("forged");
  expect(s.tokens.verify("fn", env.OPENEDGE_SERVICE_TOKEN ?? "")).toBe(true);
  await ctx.instances.stop("fn", "fn.f.0");
});

test("instances.start refuses in-process services, unknown services and bad instance names", async () => {
  const s = setup();
  await s.runner.startServices(s.runner.application.services);
  const ctx = s.context();
  const code = (p: Promise<void>) =>
    p.then(
      () => "ok",
      (e: unknown) => (isOpenEdgeError(e) ? e.code : "other"),
    );
  expect(await code(ctx.instances.start("hub", "hub.x", {}))).toBe("ERR_BAD_REQUEST");
  expect(await code(ctx.instances.start("nope", "nope.x", {}))).toBe("ERR_NOT_FOUND");
  expect(await code(ctx.instances.start("fn", "../escape", {}))).toBe("ERR_BAD_REQUEST");
});
