// At-least-once through a crash: a QoS 1 message the hub accepted (PUBACK) and handed to a function
// whose answer never came because the master was killed -9 mid-call. The rule's hub session is
// persistent, so the restarted master's hub redelivers the unacknowledged input to the rule; the
// function runs again and its output reaches a persistent subscriber that was offline meanwhile.

import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { writeOnePythonFunction } from "./function-app.ts";
import { cleanupAll, type RunningMaster } from "./harness.ts";
import { until } from "./master-api.ts";
import { makeWorkDir, startReady, stopCleanly } from "./workdir.ts";

afterAll(cleanupAll);

// every call is logged; the first one hangs (the master is killed while it sleeps), later ones answer
const PYTHON = `
import os, time

def once(event, context):
    markers = os.environ["E2E_MARKERS"]
    with open(os.path.join(markers, "calls"), "a") as f:
        f.write("%s qos=%s\\n" % (event["n"], context["messageQOS"]))
    first = os.path.join(markers, "first")
    if not os.path.exists(first):
        open(first, "w").close()
        time.sleep(60)
    return {"once": event["n"]}
`;

function workDir(): { dir: string; markers: string } {
  const dir = makeWorkDir([]);
  const markers = join(dir, "markers");
  mkdirSync(markers);
  writeOnePythonFunction(dir, {
    rule: {
      clientid: "r-once",
      subscribe: { topic: "in/once", qos: 1 },
      function: { name: "once" },
      publish: { topic: "out/once", qos: 1 },
    },
    fn: { name: "once", timeout: "2m" },
    handler: "handlers.once",
    code: { "handlers.py": PYTHON },
    pyEnv: { E2E_MARKERS: markers },
  });
  return { dir, markers };
}

async function hubUrl(m: RunningMaster): Promise<string> {
  const ready = await m.waitFor("hub_ready");
  const port = (ready.listeners as { port: number }[])[0]?.port;
  if (port === undefined || port === 0) throw new Error(`no hub port in ${JSON.stringify(ready)}`);
  return `mqtt://127.0.0.1:${port}`;
}

/** A persistent-session subscriber collecting the payloads of out/once. */
async function subscriber(url: string, got: string[]): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId: "e2e-out", clean: false, reconnectPeriod: 0 });
  // listening before the CONNACK: what the session queued may arrive in the same read
  client.on("message", (_topic, payload) => got.push(payload.toString()));
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  await client.subscribeAsync("out/once", { qos: 1 });
  return client;
}

const calls = (markers: string): string[] => {
  const file = join(markers, "calls");
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : [];
};

test("QoS 1: kill -9 of the master between the hub's PUBACK and the function's answer; the restarted master runs the call again and publishes its output", async () => {
  const { dir, markers } = workDir();
  let master = await startReady(dir);
  await master.waitFor("function_manager_ready");
  const got: string[] = [];
  const sub = await subscriber(await hubUrl(master), got);
  await sub.endAsync(); // offline from here on: its session queues what comes

  const pub = await mqtt.connectAsync(await hubUrl(master), { clientId: "e2e-in", reconnectPeriod: 0 });
  await pub.publishAsync("in/once", JSON.stringify({ n: 7 }), { qos: 1 }); // resolves on PUBACK
  pub.end(true);
  await until(
    "the call to reach the handler",
    () => calls(markers),
    (c) => c.length === 1,
  );

  master.proc.kill("SIGKILL");
  expect(await master.exited).not.toBe(0);
  master = await startReady(dir);
  await master.waitFor("function_manager_ready");

  // the input comes back to the rule and the function answers this time
  await until(
    "a second call",
    () => calls(markers),
    (c) => c.length >= 2,
    { timeoutMs: 20_000 },
  );
  const back = await subscriber(await hubUrl(master), got);
  await until(
    "the output",
    () => got,
    (g) => g.length >= 1,
    { timeoutMs: 20_000 },
  );
  expect(JSON.parse(got[0] ?? "null")).toEqual({ once: 7 });
  await Bun.sleep(300);
  expect(got).toHaveLength(1); // the hung first call never answered: one output
  expect(calls(markers)).toHaveLength(2);
  // the redelivered input reached the rule before the runtime service had started: the instance
  // request waited for the service's turn rather than failing an attempt
  expect(master.lines.filter((l) => l.msg === "function_call_attempt_failed")).toEqual([]);
  await back.endAsync();
  await stopCleanly(master, dir);
});
