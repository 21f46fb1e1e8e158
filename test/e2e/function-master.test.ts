// A Python 3 function service (replica 0) under a running master: dynamic instances started through
// the API with OPENEDGE_SERVICE_INSTANCE_ADDRESS serve calls on that socket, and a FunctionPool
// driving the same API scales instances up and stops them.

import { afterAll, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import {
  FunctionPool,
  type InstanceStarter,
  type InvokeCall,
  RuntimeClient,
  socketConnector,
} from "../../src/function/index.ts";
import { cleanupAll } from "./harness.ts";
import { MasterApi, running, until } from "./master-api.ts";
import { applicationFile, instanceLog, makeWorkDir, startReady, stopCleanly } from "./workdir.ts";

afterAll(cleanupAll);

const FIXTURE = join(import.meta.dir, "../fixtures/function/python");

function functionWorkDir(): string {
  const wd = makeWorkDir([]);
  const volumes = join(wd, "var/db/openedge");
  mkdirSync(join(volumes, "fn-conf"), { recursive: true });
  writeFileSync(
    join(volumes, "fn-conf/service.yml"),
    stringify({
      functions: [
        { name: "echo", handler: "forms.echo", codedir: "var/db/openedge/fn-code" },
        { name: "sleep", handler: "forms.sleep", codedir: "var/db/openedge/fn-code", timeout: "5s" },
      ],
    }),
  );
  cpSync(FIXTURE, join(volumes, "fn-code"), { recursive: true });
  writeFileSync(
    applicationFile(wd),
    stringify({
      version: "v1",
      services: [
        {
          name: "fnpy",
          image: "hub.baidubce.com/openedge/openedge-function-python3:0.1.5",
          replica: 0,
          mounts: [
            { name: "fn-conf", path: "etc/openedge", readonly: true },
            { name: "fn-code", path: "var/db/openedge/fn-code", readonly: true },
          ],
        },
      ],
      volumes: [
        { name: "fn-conf", path: "var/db/openedge/fn-conf" },
        { name: "fn-code", path: "var/db/openedge/fn-code" },
      ],
    }),
  );
  return wd;
}

function call(functionName: string, payload: string): InvokeCall {
  return {
    id: 1,
    qos: 0,
    topic: "t",
    payload: Buffer.from(payload),
    timestamp: 0,
    functionName,
    functionInvokeId: crypto.randomUUID(),
  };
}

test("a dynamic instance of a python3 function service serves calls on the socket its start named", async () => {
  const wd = functionWorkDir();
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const socket = join(wd, "f1.sock");
  const started = await api.call("PUT", "/v1/services/fnpy/instances/fnpy.echo.0/start", {
    body: { OPENEDGE_SERVICE_INSTANCE_ADDRESS: `unix://${socket}` },
  });
  expect(started.status).toBe(200);
  await api.instancesUntil("fnpy", "the instance running", (i) => running(i, 1));
  const client = await RuntimeClient.connect(socket, { deadlineMs: 10_000 });
  const outcome = await client.call(call("echo", '{"hi":1}'), 5_000);
  expect(outcome.ok).toBe(true);
  expect(JSON.parse(Buffer.from((outcome.ok && outcome.payload) || []).toString()).event).toEqual({ hi: 1 });
  client.close();
  await until(
    "the ready line in the instance log",
    () => instanceLog(wd, "fnpy", "fnpy.echo.0"),
    (log) => log.includes("function_runtime_ready"),
  );

  expect((await api.call("PUT", "/v1/services/fnpy/instances/fnpy.echo.0/stop")).status).toBe(200);
  await api.instancesUntil("fnpy", "the instance gone", (i) => i.length === 0);
  await until(
    "the socket removed",
    () => existsSync(socket),
    (exists) => !exists,
  );
  await until(
    "the stopping line in the instance log",
    () => instanceLog(wd, "fnpy", "fnpy.echo.0"),
    (log) => log.includes("function_runtime_stopping"),
  );
  await stopCleanly(master, wd);
});

test("a pool starting instances through the master API scales up under load and stops them at close", async () => {
  const wd = functionWorkDir();
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const put = async (path: string, body?: Record<string, string>) => {
    const answer = await api.call("PUT", path, body === undefined ? {} : { body });
    if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${answer.text}`);
  };
  const starter: InstanceStarter = {
    start: (service, instance, env) => put(`/v1/services/${service}/instances/${instance}/start`, env),
    stop: (service, instance) => put(`/v1/services/${service}/instances/${instance}/stop`),
  };
  const pool = new FunctionPool(
    {
      service: "fnpy",
      functionName: "sleep",
      min: 1,
      max: 3,
      idleTimeMs: 60_000,
      timeoutMs: 5_000,
      socketDir: wd,
    },
    { starter, connect: socketConnector() },
  );
  await pool.start();
  expect(pool.names("idle")).toEqual(["fnpy.sleep.0"]);
  const outcomes = await Promise.all([1, 2, 3].map(() => pool.invoke(call("sleep", "0.3"))));
  expect(outcomes.map((o) => o.ok && Buffer.from(o.payload ?? []).toString())).toEqual([
    "slept",
    "slept",
    "slept",
  ]);
  expect(pool.names()).toEqual(["fnpy.sleep.0", "fnpy.sleep.1", "fnpy.sleep.2"]);
  const instances = await api.instancesUntil("fnpy", "three instances", (i) => running(i, 3));
  expect(instances.map((i) => i.name).sort()).toEqual(["fnpy.sleep.0", "fnpy.sleep.1", "fnpy.sleep.2"]);
  await pool.close();
  await api.instancesUntil("fnpy", "no instances", (i) => i.length === 0);
  await stopCleanly(master, wd);
});
