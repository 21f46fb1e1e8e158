// The hub's promise across a crash: QoS 1 and QoS 2 messages acknowledged for an offline persistent
// session, and retained messages, survive kill -9 of the master (the in-process hub dies with it). The
// restarted master's hub delivers QoS 2 exactly once and QoS 1 at least once, and keeps the retained.
// A QoS 2 exchange caught half-way by the crash goes on where it stopped, both ways.

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import type { Packet } from "mqtt-packet";
import { cleanupAll, type RunningMaster } from "./harness.ts";
import { RawClient } from "./hub-raw-client.ts";
import { hubWorkDir, listenerPorts, TEST_PRINCIPAL_YML } from "./hub-workdir.ts";
import { MasterApi, until } from "./master-api.ts";
import { startReady, stopCleanly } from "./workdir.ts";

const N = 200;
const CLIENT_ID = "durable-subscriber";
const AUTH = { username: "test", password: "hahaha" };

const SERVICE_YML = `name: localhub
listen:
  - tcp://127.0.0.1:0
principals:
${TEST_PRINCIPAL_YML}`;

let workDir: string;
let master: RunningMaster;

beforeAll(() => {
  workDir = hubWorkDir(SERVICE_YML);
});

afterAll(() => {
  cleanupAll();
});

async function hubPort(m: RunningMaster): Promise<number> {
  const ports = await listenerPorts(m, 1);
  return ports.get("tcp://127.0.0.1:0") ?? 0;
}

async function hubUrl(m: RunningMaster): Promise<string> {
  return `mqtt://127.0.0.1:${await hubPort(m)}`;
}

/** kill -9: no shutdown, no final commit; then a new master on the same work dir. */
async function crashAndRestart(m: RunningMaster, wd: string): Promise<RunningMaster> {
  m.proc.kill("SIGKILL");
  expect(await m.exited).not.toBe(0);
  return startReady(wd);
}

/** The state letter in /proc/<pid>/stat (`T` once a SIGSTOP took effect). */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

/** What a raw client received, compactly: `connack 1` (session present), `publish 3 dup q2 m` … */
function summary(p: Packet): string {
  switch (p.cmd) {
    case "connack":
      return `connack ${p.sessionPresent ? 1 : 0}`;
    case "publish":
      return `publish ${p.messageId ?? 0}${p.dup ? " dup" : ""} ${p.topic} ${p.payload.toString()}`;
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
    case "suback":
      return `${p.cmd} ${p.messageId ?? 0}`;
    default:
      return p.cmd;
  }
}

/** Rows the hub's store holds for a client's outgoing messages (read beside the running hub; WAL). */
function storedOutgoing(wd: string, clientId: string): number {
  const db = new Database(join(wd, "var/db/openedge/localhub-data/hub.db"), { readonly: true });
  try {
    const row = db
      .query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM outgoing WHERE client_id = ?")
      .get(clientId);
    return row?.n ?? 0;
  } finally {
    db.close();
  }
}

async function rawSubscriber(port: number, clientId: string, filter: string): Promise<RawClient> {
  const { client } = await RawClient.connect(port, { clientId, clean: false, ...AUTH });
  client.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: filter, qos: 2 }] });
  expect(summary(await client.next("suback"))).toBe("suback 1");
  return client;
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

    // a marker published now lands behind the queued messages: once it arrives, every queued message
    // was sent. The client hands a QoS 2 message over only at its PUBREL, a round trip later, so the
    // QoS 2 ones may still be on their way: wait for them too (the checks below name any missing)
    const marker = await connect(url2, { clientId: "marker", clean: true });
    await marker.c.publishAsync("q1/marker", "end", { qos: 1 });
    await until(
      "the queued messages and the marker",
      () => back.got.length,
      () => back.got.some((m) => m.topic === "q1/marker") && counts(back.got, "q2/").size >= N,
      { timeoutMs: 20_000, intervalMs: 20 },
    ).catch(() => {});
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

/** A raw persistent subscriber `clientId` on `topic`, and the QoS 2 PUBLISH it got of `payload`. */
async function qos2ToRawSubscriber(m: RunningMaster, clientId: string, topic: string, payload: string) {
  const sub = await rawSubscriber(await hubPort(m), clientId, topic);
  const pub = await connect(await hubUrl(m), { clientId: `${clientId}-pub`, clean: true });
  await pub.c.publishAsync(topic, payload, { qos: 2 });
  pub.c.end(true);
  return { sub, publish: await sub.next("publish") };
}

describe("a QoS 2 exchange caught half-way by kill -9 of the master", () => {
  test("outbound, after the hub sent PUBREL: the reconnecting subscriber gets PUBREL, not the PUBLISH again; PUBCOMP ends it for good", async () => {
    const wd = hubWorkDir(SERVICE_YML);
    let m = await startReady(wd);
    const { sub, publish } = await qos2ToRawSubscriber(m, "out-after", "out/after", "m1");
    expect(publish.cmd === "publish" && publish.qos).toBe(2);
    const id = publish.messageId ?? 0;
    sub.send({ cmd: "pubrec", messageId: id });
    // The hub writes PUBREL only after committing the PUBREC (commit before flush each turn).
    await sub.next("pubrel", (p) => p.messageId === id);
    m = await crashAndRestart(m, wd);

    // [MQTT-4.4.0-1] the exchange resumes with PUBREL, same packet id; the message is not sent again
    const back = (await RawClient.connect(await hubPort(m), { clientId: "out-after", clean: false, ...AUTH }))
      .client;
    await back.roundTrip();
    expect(back.packets.map(summary)).toEqual(["connack 1", `pubrel ${id}`, "pingresp"]);
    back.send({ cmd: "pubcomp", messageId: id });
    // PUBCOMP has no answer: it reaches the store without any other traffic to carry it
    await until(
      "the completed message gone from the store",
      () => storedOutgoing(wd, "out-after"),
      (n) => n === 0,
      { timeoutMs: 5000, intervalMs: 20 },
    );
    m = await crashAndRestart(m, wd);

    const again = (
      await RawClient.connect(await hubPort(m), { clientId: "out-after", clean: false, ...AUTH })
    ).client;
    await again.roundTrip();
    expect(again.packets.map(summary)).toEqual(["connack 1", "pingresp"]);
    again.close();
    await stopCleanly(m, wd);
  }, 60_000);

  test("outbound, PUBREC not yet read by the hub: the PUBLISH comes again with DUP and the same id, then PUBREL once", async () => {
    const wd = hubWorkDir(SERVICE_YML);
    let m = await startReady(wd);
    const { sub, publish } = await qos2ToRawSubscriber(m, "out-before", "out/before", "m2");
    const id = publish.messageId ?? 0;
    // Stopped, the master cannot read the PUBREC that is sent now: it dies without having seen it.
    m.proc.kill("SIGSTOP");
    await until(
      "the master stopped",
      () => processState(m.proc.pid),
      (state) => state === "T",
      { intervalMs: 5 },
    );
    sub.send({ cmd: "pubrec", messageId: id });
    m = await crashAndRestart(m, wd);

    const back = (
      await RawClient.connect(await hubPort(m), { clientId: "out-before", clean: false, ...AUTH })
    ).client;
    await back.roundTrip();
    // [MQTT-4.4.0-1] [MQTT-3.3.1-1] unacknowledged as far as the hub knows: resent with DUP, same id
    expect(back.packets.map(summary)).toEqual(["connack 1", `publish ${id} dup out/before m2`, "pingresp"]);
    // [MQTT-4.3.3-2] the subscriber still holds the id (PUBREC sent): it answers PUBREC, delivers nothing new
    const from = back.packets.length;
    back.send({ cmd: "pubrec", messageId: id });
    await back.next("pubrel", (p) => p.messageId === id, from);
    back.send({ cmd: "pubcomp", messageId: id });
    await back.roundTrip();
    expect(back.packets.slice(from).map(summary)).toEqual([`pubrel ${id}`, "pingresp"]);
    back.close();
    await stopCleanly(m, wd);
  }, 60_000);

  test("inbound, killed before the publisher's PUBREL: its DUP resend gets PUBREC, PUBREL gets PUBCOMP; the subscriber gets the message once", async () => {
    const wd = hubWorkDir(SERVICE_YML);
    let m = await startReady(wd);
    // an offline persistent subscriber: what it is owed must come from the store after the crash
    const first = await connect(await hubUrl(m), { clientId: "in-sub", clean: false });
    await first.c.subscribeAsync("in/q2", { qos: 2 });
    await first.c.endAsync();

    const publisher = (
      await RawClient.connect(await hubPort(m), { clientId: "in-pub", clean: false, ...AUTH })
    ).client;
    publisher.send({
      cmd: "publish",
      topic: "in/q2",
      payload: Buffer.from("once"),
      qos: 2,
      messageId: 7,
      retain: false,
      dup: false,
    });
    await publisher.next("pubrec", (p) => p.messageId === 7);
    m = await crashAndRestart(m, wd);

    const back = (await RawClient.connect(await hubPort(m), { clientId: "in-pub", clean: false, ...AUTH }))
      .client;
    // a publisher that lost the PUBREC sends the PUBLISH again; one that got it sends PUBREL [MQTT-4.4.0-1]
    back.send({
      cmd: "publish",
      topic: "in/q2",
      payload: Buffer.from("once"),
      qos: 2,
      messageId: 7,
      retain: false,
      dup: true,
    });
    back.send({ cmd: "pubrel", messageId: 7 });
    await back.next("pubcomp", (p) => p.messageId === 7);
    expect(back.packets.map(summary)).toEqual(["connack 1", "pubrec 7", "pubcomp 7"]);
    back.close();

    const sub = await connect(await hubUrl(m), { clientId: "in-sub", clean: false });
    expect(sub.sessionPresent).toBe(true);
    // a marker behind it: once the marker is in, anything queued before it has arrived
    const marker = await connect(await hubUrl(m), { clientId: "in-marker", clean: true });
    await marker.c.publishAsync("in/q2", "marker", { qos: 1 });
    marker.c.end(true);
    await until(
      "the marker",
      () => sub.got.length,
      () => sub.got.some((g) => g.payload === "marker"),
    );
    expect(sub.got.map((g) => `${g.payload} ${g.qos}`)).toEqual(["once 2", "marker 1"]);
    sub.c.end(true);
    await stopCleanly(m, wd);
  }, 60_000);
});
