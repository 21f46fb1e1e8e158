// The hub's promise across a crash: QoS 1 and QoS 2 messages acknowledged for an offline persistent
// session, and retained messages, survive kill -9 of the master (the in-process hub dies with it). The
// restarted master's hub delivers QoS 2 exactly once and QoS 1 at least once, and keeps the retained.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { cleanupAll, type RunningMaster } from "./harness.ts";
import { hubWorkDir, listenerPorts } from "./hub-workdir.ts";
import { MasterApi, until } from "./master-api.ts";
import { startReady, stopCleanly } from "./workdir.ts";

const N = 200;
const CLIENT_ID = "durable-subscriber";
const AUTH = { username: "test", password: "hahaha" };

let workDir: string;
let master: RunningMaster;

beforeAll(() => {
  workDir = hubWorkDir(`name: localhub
listen:
  - tcp://127.0.0.1:0
principals:
  - username: test
    password: hahaha
    permissions:
      - {action: pub, permit: ["#"]}
      - {action: sub, permit: ["#"]}
`);
});

afterAll(() => {
  cleanupAll();
});

async function hubUrl(m: RunningMaster): Promise<string> {
  const ports = await listenerPorts(m, 1);
  return `mqtt://127.0.0.1:${ports.get("tcp://127.0.0.1:0")}`;
}

interface Got {
  topic: string;
  payload: string;
  qos: number;
}

async function connect(
  url: string,
  options: mqtt.IClientOptions,
): Promise<{ c: mqtt.MqttClient; got: Got[]; sessionPresent: boolean }> {
  const c = mqtt.connect(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...AUTH,
    ...options,
  });
  const got: Got[] = [];
  c.on("message", (topic, payload, packet) =>
    got.push({ topic, payload: payload.toString(), qos: packet.qos }),
  );
  const sessionPresent = await new Promise<boolean>((resolve, reject) => {
    c.once("connect", (connack) => resolve(connack.sessionPresent));
    c.once("error", reject);
  });
  return { c, got, sessionPresent };
}

function counts(got: readonly Got[], prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of got) if (m.topic.startsWith(prefix)) out.set(m.payload, (out.get(m.payload) ?? 0) + 1);
  return out;
}

describe("hub durability across kill -9 of the master", () => {
  test("an offline persistent session gets every acknowledged QoS 1/2 message; retained survive", async () => {
    master = await startReady(workDir);
    const url = await hubUrl(master);

    // the persistent session subscribes, then goes offline with a clean DISCONNECT
    const first = await connect(url, { clientId: CLIENT_ID, clean: false });
    expect(first.sessionPresent).toBe(false);
    const granted = await first.c.subscribeAsync({ "q1/#": { qos: 1 }, "q2/#": { qos: 2 } });
    expect(granted.map((g) => g.qos)).toEqual([1, 2]);
    await first.c.endAsync();

    // every publish below is acknowledged (PUBACK / PUBCOMP) before the crash
    const pub = await connect(url, { clientId: "publisher", clean: true });
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      acks.push(pub.c.publishAsync(`q1/${i % 7}`, `one-${i}`, { qos: 1 }));
      acks.push(pub.c.publishAsync(`q2/${i % 5}`, `two-${i}`, { qos: 2 }));
    }
    acks.push(pub.c.publishAsync("r/kept", "retained-1", { qos: 1, retain: true }));
    acks.push(pub.c.publishAsync("r/replaced", "old", { qos: 1, retain: true }));
    acks.push(pub.c.publishAsync("r/replaced", "new", { qos: 2, retain: true }));
    acks.push(pub.c.publishAsync("r/cleared", "gone", { qos: 1, retain: true }));
    acks.push(pub.c.publishAsync("r/cleared", "", { qos: 1, retain: true }));
    await Promise.all(acks);
    pub.c.end(true);

    // the crash: no shutdown, no final commit
    master.proc.kill("SIGKILL");
    expect(await master.exited).not.toBe(0);

    master = await startReady(workDir);
    const url2 = await hubUrl(master);
    const back = await connect(url2, { clientId: CLIENT_ID, clean: false });
    expect(back.sessionPresent).toBe(true);

    // a marker published now lands behind the queued messages: once it arrives, the queue is drained
    const marker = await connect(url2, { clientId: "marker", clean: true });
    await marker.c.publishAsync("q1/marker", "end", { qos: 1 });
    await until(
      "the queued messages and the marker",
      () => back.got.length,
      () => back.got.some((m) => m.topic === "q1/marker"),
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    marker.c.end(true);

    const q1 = counts(back.got, "q1/");
    const q2 = counts(back.got, "q2/");
    for (let i = 0; i < N; i++) {
      expect(q1.get(`one-${i}`) ?? 0).toBeGreaterThanOrEqual(1); // QoS 1: at least once
      expect(q2.get(`two-${i}`)).toBe(1); // QoS 2: exactly once
    }
    expect(q2.size).toBe(N);
    for (const m of back.got) expect(m.qos).toBe(m.topic.startsWith("q2/") ? 2 : 1);
    // per publisher and topic, in order
    const order = back.got.filter((m) => m.topic === "q2/0").map((m) => Number(m.payload.slice(4)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    back.c.end(true);

    // retained messages: set, replaced and cleared as acknowledged before the crash
    const reader = await connect(url2, { clientId: "reader", clean: true });
    await reader.c.subscribeAsync("r/#", { qos: 2 });
    await until(
      "two retained messages",
      () => reader.got.length,
      (n) => n >= 2,
    );
    // a round trip after the retained ones: anything more would have arrived by now
    await reader.c.publishAsync("r-end", "x", { qos: 1 });
    expect(reader.got.map((m) => `${m.topic}=${m.payload}`).sort()).toEqual([
      "r/kept=retained-1",
      "r/replaced=new",
    ]);
    reader.c.end(true);

    // the in-process hub's figures reach /metrics through its inspect()
    const metrics = await new MasterApi(workDir).call("GET", "/metrics");
    expect(metrics.text).toMatch(/openedge_hub_messages_received_total\{service="localhub"\} [1-9]/);
    expect(metrics.text).toContain('openedge_hub_messages_dropped_total{service="localhub"} 0');

    await stopCleanly(master, workDir);
  }, 60_000);
});
