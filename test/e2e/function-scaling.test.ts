// The function pool end to end on the compiled executable: a burst grows a Python function's pool to
// `max`, and once idle for `idletime` it shrinks back to `min` (the extra processes gone, the warm one
// kept and still answering); a killed idle instance is replaced and the next message is answered.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { stringify } from "yaml";
import { functionApplication, volumeWriter } from "./function-app.ts";
import { cleanupAll, type RunningMaster } from "./harness.ts";
import { until } from "./master-api.ts";
import { alive, pidsWithEnv } from "./procs.ts";
import { applicationFile, makeWorkDir, startReady, stopCleanly } from "./workdir.ts";

afterAll(cleanupAll);

const PYTHON = `
import time

def slow(event, context):
    time.sleep(0.3)
    return {"slow": event}

def echo(event, context):
    return {"echo": event}
`;

let wd = "";
let master: RunningMaster;
let client: MqttClient;
const got: { topic: string; payload: Buffer }[] = [];

function workDir(): string {
  const dir = makeWorkDir([]);
  const _v = join(dir, "var/db/openedge");
  const write = volumeWriter(dir);
  const rule = (fn: string) => ({
    clientid: `r-${fn}`,
    subscribe: { topic: `in/${fn}`, qos: 1 },
    function: { name: fn },
    publish: { topic: `out/${fn}`, qos: 1 },
  });
  write("hub-conf/service.yml", stringify({ listen: ["tcp://127.0.0.1:0"], anonymous: true }));
  write(
    "fm-conf/service.yml",
    stringify({
      hub: { address: "tcp://127.0.0.1:1883" },
      rules: [rule("pyscale"), rule("pykill")],
      functions: [
        { name: "pyscale", service: "fn-py", instance: { min: 1, max: 3, idletime: "1s" } },
        { name: "pykill", service: "fn-py", instance: { min: 1, max: 1 } },
      ],
    }),
  );
  const codedir = "var/db/openedge/py-code";
  write(
    "py-conf/service.yml",
    stringify({
      functions: [
        { name: "pyscale", handler: "handlers.slow", codedir },
        { name: "pykill", handler: "handlers.echo", codedir },
      ],
    }),
  );
  write("py-code/handlers.py", PYTHON);
  writeFileSync(applicationFile(dir), stringify(functionApplication({ js: false })));

  return dir;
}

const pids = (instance: string) => pidsWithEnv("OPENEDGE_SERVICE_INSTANCE_NAME", instance);

function outputs(topic: string, count: number, timeoutMs = 15_000) {
  return until(
    `${count} message(s) on ${topic}`,
    () => got.filter((g) => g.topic === topic).map((g) => JSON.parse(String(g.payload)) as object),
    (on) => on.length >= count,
    { timeoutMs },
  );
}

function linesOf(msg: string, fn: string) {
  return master.lines.filter((l) => l.msg === msg && l.function === fn);
}

beforeAll(async () => {
  wd = workDir();
  master = await startReady(wd);
  await master.waitFor("function_manager_ready");
  const ready = await master.waitFor("hub_ready");
  const port = (ready.listeners as { port: number }[])[0]?.port;
  client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: "e2e-scale", reconnectPeriod: 0 });
  client.on("message", (topic, payload) => got.push({ topic, payload }));
  await client.subscribeAsync(["out/pyscale", "out/pykill"], { qos: 1 });
}, 30_000);

afterAll(async () => {
  await client?.endAsync();
});

test("a burst grows the pool to max; idle for idletime, it shrinks back to min and the one left answers", async () => {
  await until(
    "the warm pyscale instance",
    () => pids("fn-py.pyscale.0"),
    (p) => p.length > 0,
  );
  for (let i = 0; i < 6; i++) await client.publishAsync("in/pyscale", JSON.stringify(i), { qos: 1 });
  const outs = await outputs("out/pyscale", 6);
  expect(outs.map((o) => (o as { slow: number }).slow).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  const grown = new Set(linesOf("function_instance_ready", "pyscale").map((l) => l.instance));
  expect(grown).toEqual(new Set(["fn-py.pyscale.0", "fn-py.pyscale.1", "fn-py.pyscale.2"]));

  // idletime 1s: the two extras are evicted and their processes end; the warm one stays
  const evicted = await until(
    "two pyscale evictions",
    () => linesOf("function_instance_evicted", "pyscale"),
    (l) => l.length >= 2,
    { timeoutMs: 10_000 },
  );
  expect(evicted).toHaveLength(2);
  // the oldest idle ones go, whichever ids they have; the one left keeps serving
  const gone = evicted.map((l) => String(l.instance));
  const kept = [...grown].map(String).filter((name) => !gone.includes(name));
  expect(kept).toHaveLength(1);
  await until(
    "the evicted instances' processes to end",
    () => gone.flatMap(pids),
    (p) => p.length === 0,
  );
  const warm = pids(kept[0] as string);
  expect(warm.length).toBeGreaterThan(0);
  expect(warm.every(alive)).toBe(true);

  got.length = 0;
  await client.publishAsync("in/pyscale", JSON.stringify("after"), { qos: 1 });
  expect(await outputs("out/pyscale", 1)).toEqual([{ slow: "after" }]);
  expect(linesOf("function_instance_ready", "pyscale")).toHaveLength(3); // served warm, none started
}, 30_000);

test("a killed idle instance is replaced and the next message is answered", async () => {
  await client.publishAsync("in/pykill", JSON.stringify("before"), { qos: 1 });
  expect(await outputs("out/pykill", 1)).toEqual([{ echo: "before" }]);
  const old = pids("fn-py.pykill.0");
  expect(old.length).toBeGreaterThan(0);
  for (const pid of old) process.kill(pid, "SIGKILL");
  await until(
    "pykill replaced",
    () =>
      master.lines.filter((l) => l.msg === "function_instance_replaced" && l.instance === "fn-py.pykill.0"),
    (l) => l.length > 0,
  );
  got.length = 0;
  await client.publishAsync("in/pykill", JSON.stringify("after"), { qos: 1 });
  expect(await outputs("out/pykill", 1)).toEqual([{ echo: "after" }]);
  const ready = linesOf("function_instance_ready", "pykill");
  expect(ready).toHaveLength(2);
  // the replacement may take another id: the killed one's is held until its stop is done
  const now = pids(String(ready[1]?.instance));
  expect(now.length).toBeGreaterThan(0);
  expect(now.some((pid) => old.includes(pid))).toBe(false);
}, 30_000);

test("the master stops the manager, its instances and the hub cleanly", async () => {
  await client.endAsync();
  await stopCleanly(master, wd);
});
