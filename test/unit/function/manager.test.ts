// The manager built-in's assembly: without an in-process hub in the application it refuses to start
// with an error naming hub.address; config errors surface before any rule subscribes.

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseApplicationConfig } from "../../../src/config/index.ts";
import { startFunctionManager } from "../../../src/function/index.ts";
import { speaksMsgpack } from "../../../src/function/manager.ts";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";
import { silentLogger } from "../../../src/log/index.ts";
import type { BuiltinContext } from "../../../src/master/builtin-host.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function context(serviceYml: string): BuiltinContext {
  const dir = mkdtempSync(join(tmpdir(), "oe-fm-"));
  dirs.push(dir);
  writeFileSync(join(dir, "service.yml"), serviceYml);
  const app = parseApplicationConfig(
    "version: v1\nservices:\n  - {name: fm, image: openedge-function-manager}\n  - {name: fn, image: openedge-function-python3, replica: 0}\n",
    { env: {}, workDir: dir },
  ).app;
  return {
    service: app.services[0] as BuiltinContext["service"],
    mounts: { "etc/openedge": dir },
    log: silentLogger,
    application: app,
    builtin: () => undefined,
    instances: { start: async () => {}, stop: async () => {}, status: () => undefined },
  };
}

const deps = { env: {}, socketDir: () => "/tmp/oe-fm-unused" };

async function failure(ctx: BuiltinContext): Promise<string> {
  try {
    await startFunctionManager(ctx, deps);
  } catch (error) {
    if (isOpenEdgeError(error, "ERR_CONFIG") || error instanceof Error) return error.message;
  }
  throw new Error("started");
}

test("no in-process hub: a config error saying network hubs are not supported yet", async () => {
  const message = await failure(
    context("hub: {address: 'tcp://10.0.0.1:1883'}\nfunctions: [{name: f, service: fn}]\n"),
  );
  expect(message).toContain("hub.address tcp://10.0.0.1:1883: network hubs are not supported yet");
});

test("a bad service.yml fails the start with the field named", async () => {
  const message = await failure(context("functions: [{name: f, service: missing}]\n"));
  expect(message).toContain('functions[0].service: service "missing" is not in the application');
});

test("calls go to the JavaScript runtime in MessagePack, to other runtimes in JSON", () => {
  const app = parseApplicationConfig(
    [
      "version: v1",
      "services:",
      "  - {name: fm, image: openedge-function-manager}",
      "  - {name: js, image: openedge-function-node, replica: 0}",
      "  - {name: js85, image: 'hub.baidubce.com/openedge/openedge-function-node85:0.1.5', replica: 0}",
      "  - {name: py, image: openedge-function-python3, replica: 0}",
      "",
    ].join("\n"),
    { env: {}, workDir: tmpdir() },
  ).app;
  const ctx = { application: app } as BuiltinContext;
  expect(speaksMsgpack(ctx, "js")).toBe(true);
  expect(speaksMsgpack(ctx, "js85")).toBe(true);
  expect(speaksMsgpack(ctx, "py")).toBe(false);
  expect(speaksMsgpack(ctx, "absent")).toBe(false);
});
