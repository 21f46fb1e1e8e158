// The function manager end to end on the compiled executable: a hub, the manager and a Python 3 and a
// JavaScript function service under one master, driven by a real MQTT client — JSON and binary
// payloads, empty results, exceptions as OpenEdge's error object, QoS 0/1 (a runtime killed mid-call
// is retried, its input acknowledged only after the output), and the pool growing under a burst.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { stringify } from "yaml";
import { functionApplication, volumeWriter } from "./function-app.ts";
import { cleanupAll, type RunningMaster } from "./harness.ts";
import { until } from "./master-api.ts";
import { pidsWithEnv } from "./procs.ts";
import { applicationFile, makeWorkDir, startReady, stopCleanly } from "./workdir.ts";

afterAll(cleanupAll);

const PYTHON = `
import os, time

def echo(event, context):
    if event == "none":
        return None
    if isinstance(event, (bytes, bytearray)):
        return bytes(reversed(event))
    return {"event": event, "qos": context["messageQOS"], "topic": context["messageTopic"],
            "fn": context["functionName"]}

def boom(event, context):
    raise ValueError("boom: " + str(event))

def slow(event, context):
    time.sleep(0.3)
    return {"slow": event}

def once(event, context):
    marker = os.path.join(os.environ["E2E_MARKERS"], str(event))
    if not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(60)
    return {"once": event}
`;

const JS = `
exports.echo = (event, context) => {
  if (Buffer.isBuffer(event)) return Buffer.concat([Buffer.from("js:"), event]);
  if (event === "empty") return "";
  return { event, topic: context.messageTopic, say: "js" };
};
`;

interface Got {
  topic: string;
  payload: Buffer;
  qos: number;
}

let wd = "";
let markers = "";
let master: RunningMaster;
let client: MqttClient;
const got: Got[] = [];

function rule(clientid: string, topic: string, fn: string, out: string, extra: object = {}): object {
  return {
    clientid,
    subscribe: { topic, qos: 1 },
    function: { name: fn },
    publish: { topic: out, qos: 1 },
    ...extra,
  };
}

function workDir(): string {
  const dir = makeWorkDir([]);
  const _v = join(dir, "var/db/openedge");
  const write = volumeWriter(dir);
  write("hub-conf/service.yml", stringify({ listen: ["tcp://127.0.0.1:0"], anonymous: true }));
  write(
    "fm-conf/service.yml",
    stringify({
      hub: { address: "tcp://127.0.0.1:1883", username: "u", password: "p" },
      rules: [
        rule("r-py", "t/py", "pyecho", "py/out"),
        rule("r-pynone", "t/pynone", "pyecho", "pynone/out", { ordered: true }),
        rule("r-boom", "t/boom", "pyboom", "boom/out"),
        rule("r-js", "t/js", "jsecho", "js/out", { ordered: true }),
        rule("r-slow", "t/slow", "pyslow", "slow/out"),
        rule("r-once", "t/once", "pyonce", "once/out", { retry: { max: 3 } }),
      ],
      functions: [
        { name: "pyecho", service: "fn-py", instance: { min: 1, max: 1 } },
        { name: "pyboom", service: "fn-py" },
        { name: "pyslow", service: "fn-py", instance: { max: 3, idletime: "1m" } },
        { name: "pyonce", service: "fn-py", timeout: "2m" },
        { name: "jsecho", service: "fn-js" },
      ],
    }),
  );
  const codedir = (name: string) => `var/db/openedge/${name}`;
  write(
    "py-conf/service.yml",
    stringify({
      functions: ["pyecho:echo", "pyboom:boom", "pyslow:slow", "pyonce:once"].map((s) => {
        const [name, fn] = s.split(":");
        return { name, handler: `handlers.${fn}`, codedir: codedir("py-code") };
      }),
    }),
  );
  write("py-code/handlers.py", PYTHON);
  write(
    "js-conf/service.yml",
    stringify({ functions: [{ name: "jsecho", handler: "index.echo", codedir: codedir("js-code") }] }),
  );
  write("js-code/index.js", JS);
  markers = join(dir, "markers");
  mkdirSync(markers);
  writeFileSync(
    applicationFile(dir),
    stringify(functionApplication({ js: true, pyEnv: { E2E_MARKERS: markers } })),
  );

  return dir;
}

async function hubPort(m: RunningMaster): Promise<number> {
  const ready = await m.waitFor("hub_ready");
  const listeners = ready.listeners as { url: string; port: number }[];
  const port = listeners[0]?.port;
  if (port === undefined || port === 0) throw new Error(`no hub port in ${JSON.stringify(ready)}`);
  return port;
}

/** The messages received on `topic` once there are `count` of them. */
async function received(topic: string, count = 1, timeoutMs = 15_000): Promise<Got[]> {
  return until(
    `${count} message(s) on ${topic}`,
    () => got.filter((g) => g.topic === topic),
    (on) => on.length >= count,
    { timeoutMs },
  );
}

function json(g: Got | undefined): Record<string, unknown> {
  return JSON.parse(String(g?.payload)) as Record<string, unknown>;
}

beforeAll(async () => {
  wd = workDir();
  master = await startReady(wd);
  await master.waitFor("function_manager_ready");
  client = await mqtt.connectAsync(`mqtt://127.0.0.1:${await hubPort(master)}`, {
    clientId: "e2e-fm",
    reconnectPeriod: 0,
  });
  client.on("message", (topic, payload, packet) => got.push({ topic, payload, qos: packet.qos }));
  await client.subscribeAsync(["py/out", "pynone/out", "boom/out", "js/out", "slow/out", "once/out"], {
    qos: 1,
  });
}, 30_000);

afterAll(async () => {
  await client?.endAsync();
});

test("python3: a JSON payload is the event; the dict result comes back as JSON at QoS 1", async () => {
  await client.publishAsync("t/py", JSON.stringify({ a: 1 }), { qos: 1 });
  const [out] = await received("py/out");
  expect(json(out)).toEqual({ event: { a: 1 }, qos: 1, topic: "t/py", fn: "pyecho" });
  expect(out?.qos).toBe(1);
});

test("python3: binary payloads are bytes both ways; a QoS 0 input gives a QoS 0 output", async () => {
  got.length = 0;
  await client.publishAsync("t/py", Buffer.from([0xff, 0x00, 0x01, 0xfe]), { qos: 0 });
  const [out] = await received("py/out");
  expect([...(out?.payload ?? [])]).toEqual([0xfe, 0x01, 0x00, 0xff]);
  expect(out?.qos).toBe(0);
});

test("python3: a None result publishes nothing (ordered rule: the next output comes alone)", async () => {
  await client.publishAsync("t/pynone", JSON.stringify("none"), { qos: 1 });
  await client.publishAsync("t/pynone", JSON.stringify({ after: 1 }), { qos: 1 });
  const outs = await received("pynone/out");
  expect(outs.map((o) => json(o).event)).toEqual([{ after: 1 }]);
});

test("an exception publishes OpenEdge's error object with the input", async () => {
  await client.publishAsync("t/boom", JSON.stringify({ x: 2 }), { qos: 1 });
  const [out] = await received("boom/out");
  const body = json(out);
  expect(body.errorType).toBe("ValueError");
  expect(String(body.errorMessage)).toContain("boom:");
  const fm = body.functionMessage as Record<string, unknown>;
  expect(fm.Topic).toBe("t/boom");
  expect(fm.QOS).toBe(1);
  expect(fm.FunctionName).toBe("pyboom");
  expect(Buffer.from(String(fm.Payload), "base64").toString()).toBe('{"x":2}');
  expect(typeof fm.FunctionInvokeID).toBe("string");
});

test("node: JSON and binary payloads, an empty result publishes nothing", async () => {
  await client.publishAsync("t/js", JSON.stringify({ b: true }), { qos: 1 });
  await client.publishAsync("t/js", JSON.stringify("empty"), { qos: 1 });
  await client.publishAsync("t/js", Buffer.from([1, 2, 3]), { qos: 1 });
  const outs = await received("js/out", 2);
  expect(json(outs[0])).toEqual({ event: { b: true }, topic: "t/js", say: "js" });
  expect([...(outs[1]?.payload ?? [])]).toEqual([...Buffer.from("js:"), 1, 2, 3]);
  expect(got.filter((g) => g.topic === "js/out")).toHaveLength(2);
});

test("QoS 1: a runtime killed mid-call is replaced and the message retried; one output", async () => {
  await client.publishAsync("t/once", JSON.stringify("k1"), { qos: 1 });
  await until(
    "the first attempt to start",
    () => existsSync(join(markers, "k1")),
    (v) => v,
  );
  const pids = await until(
    "the pyonce instance",
    () => pidsWithEnv("OPENEDGE_SERVICE_INSTANCE_NAME", "fn-py.pyonce.0"),
    (found) => found.length > 0,
  );
  for (const pid of pids) process.kill(pid, "SIGKILL");
  const [out] = await received("once/out");
  expect(json(out)).toEqual({ once: "k1" });
  expect(out?.qos).toBe(1);
  await master.waitFor("function_instance_replaced");
});

test("a burst scales the pool up to max and every message is answered", async () => {
  for (let i = 0; i < 9; i++) await client.publishAsync("t/slow", JSON.stringify(i), { qos: 1 });
  const outs = await received("slow/out", 9, 20_000);
  expect(outs.map((o) => json(o).slow).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const ready = master.lines
    .filter((l) => l.msg === "function_instance_ready" && l.function === "pyslow")
    .map((l) => l.instance);
  expect(new Set(ready)).toEqual(new Set(["fn-py.pyslow.0", "fn-py.pyslow.1", "fn-py.pyslow.2"]));
}, 30_000);

test("the master stops the manager, its instances and the hub cleanly", async () => {
  await client.endAsync();
  await stopCleanly(master, wd);
});
