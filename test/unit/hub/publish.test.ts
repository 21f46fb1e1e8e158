import { afterEach, describe, expect, test } from "bun:test";
import { DEFAULT_HUB_LIMITS, type HubLimits } from "../../../src/hub/contracts.ts";
import { Hub, type HubRoute } from "../../../src/hub/hub.ts";
import type { InprocMessage } from "../../../src/hub/inproc-client.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { publishes, TestClient, testAuthenticator, tick } from "./helpers.ts";

let hub: Hub;
async function setup(limits: Partial<HubLimits> = {}, routes: HubRoute[] = [], clock = new FakeClock()) {
  hub = new Hub({
    authenticator: testAuthenticator,
    limits: { ...DEFAULT_HUB_LIMITS, ...limits },
    routes,
    clock,
  });
  await hub.start();
  const sub = new TestClient(hub);
  await sub.connect({ clientId: "sub" });
  const pub = new TestClient(hub);
  await pub.connect({ clientId: "pub" });
  return { sub, pub };
}
afterEach(() => hub?.close());

describe("PUBLISH", () => {
  test("QoS 0 bytes are forwarded unchanged; RETAIN is cleared for existing subscriptions [MQTT-3.3.1-9]", async () => {
    const { sub, pub } = await setup();
    await sub.subscribe("t", 0);
    pub.publish("t", "plain");
    pub.publish("t", "kept", 0, true);
    expect(publishes(await sub.take())).toEqual([
      expect.objectContaining({ payload: "plain", retain: false }),
      expect.objectContaining({ payload: "kept", retain: false }),
    ]);
  });

  test("[MQTT-3.3.5-1] delivered at min(published, granted) QoS; overlapping filters deliver once at the highest", async () => {
    const { sub, pub } = await setup();
    await sub.subscribe("a/#", 0, 1);
    await sub.subscribe("a/+", 1, 2);
    pub.publish("a/b", "x", 2, false, 5);
    const got = publishes(await sub.take());
    expect(got).toEqual([expect.objectContaining({ topic: "a/b", qos: 1 })]);
  });

  test("[MQTT-4.3.3-2] inbound QoS 2: PUBREC, a DUP resend is not delivered again, PUBREL → PUBCOMP", async () => {
    const { sub, pub } = await setup();
    await sub.subscribe("q2", 2);
    pub.publish("q2", "once", 2, false, 9);
    pub.publish("q2", "once", 2, false, 9, true);
    pub.send({ cmd: "pubrel", messageId: 9 });
    expect((await pub.take()).map((p) => p.cmd)).toEqual(["pubrec", "pubrec", "pubcomp"]);
    expect(publishes(await sub.take()).length).toBe(1);
  });

  test("outbound QoS 2: PUBLISH → PUBREC → PUBREL → PUBCOMP frees the slot", async () => {
    const { sub, pub } = await setup({ maxInflight: 1 });
    await sub.subscribe("q", 2);
    pub.publish("q", "1", 2, false, 1);
    pub.publish("q", "2", 2, false, 2);
    const [first, second] = publishes(await sub.take());
    expect(first?.payload).toBe("1");
    expect(second).toBeUndefined(); // the window of one is full
    sub.send({ cmd: "pubrec", messageId: first?.messageId ?? 0 });
    expect((await sub.take()).map((p) => p.cmd)).toEqual(["pubrel"]);
    sub.send({ cmd: "pubcomp", messageId: first?.messageId ?? 0 });
    expect(publishes(await sub.take()).map((p) => p.payload)).toEqual(["2"]);
  });

  test("a turn's small writes leave before its batches; each client's bytes stay in order", async () => {
    const { sub, pub } = await setup();
    const probe = new TestClient(hub);
    await probe.connect({ clientId: "probe" });
    await sub.subscribe("bulk", 0);
    await probe.subscribe("ping", 0);
    const order: string[] = [];
    for (const [name, c] of [
      ["sub", sub],
      ["probe", probe],
    ] as const) {
      const write = c.transport.write.bind(c.transport);
      c.transport.write = (bytes) => {
        order.push(`${name}:${bytes.length}`);
        return write(bytes);
      };
    }
    // in one turn: 20 messages for the subscriber (over 1 KB), then the probe's one
    for (let i = 0; i < 20; i++) pub.publish("bulk", "x".repeat(64));
    pub.publish("ping", "p");
    await sub.take();
    expect(order).toEqual(["probe:9", `sub:${20 * 72}`]);
    expect(publishes(await probe.take()).map((m) => m.payload)).toEqual(["p"]);
  });

  test("in-flight window, queue beyond it, and maxQueued drops counted", async () => {
    const { sub, pub } = await setup({ maxInflight: 2, maxQueued: 3 });
    await sub.subscribe("w", 1);
    for (let i = 1; i <= 7; i++) pub.publish("w", `m${i}`, 1, false, i);
    await pub.take();
    const first = publishes(await sub.take());
    expect(first.map((p) => p.payload)).toEqual(["m1", "m2"]);
    expect(hub.stats().dropped).toBe(2); // m3..m5 queued, m6 and m7 dropped
    for (const p of first) sub.send({ cmd: "puback", messageId: p.messageId });
    expect(publishes(await sub.take()).map((p) => p.payload)).toEqual(["m3", "m4"]);
  });

  test("backpressure: a transport that refuses more is not fed until drained", async () => {
    const { sub, pub } = await setup();
    await sub.subscribe("bp", 0);
    sub.transport.accepting = false;
    pub.publish("bp", "1");
    expect(publishes(await sub.take()).map((p) => p.payload)).toEqual(["1"]); // written, transport now full
    pub.publish("bp", "2");
    pub.publish("bp", "3");
    expect(publishes(await sub.take())).toEqual([]);
    sub.transport.accepting = true;
    sub.sink.drained();
    expect(publishes(await sub.take()).map((p) => p.payload)).toEqual(["2", "3"]);
  });

  test("unauthorised PUBLISH is dropped but acknowledged and counted; unauthorised SUBSCRIBE gets 0x80", async () => {
    const { sub, pub } = await setup();
    expect(await sub.subscribe("secret/x", 1)).toEqual([0x80]);
    expect(await sub.subscribe("#", 1)).toEqual([1]);
    pub.publish("secret/x", "no", 1, false, 3);
    expect((await pub.take()).map((p) => p.cmd)).toEqual(["puback"]);
    expect(publishes(await sub.take())).toEqual([]);
    expect(hub.stats().publishDenied).toBe(1);
  });

  test("one connection alternating topics: each publish is checked against its own topic", async () => {
    const { sub, pub } = await setup();
    expect(await sub.subscribe("#", 0)).toEqual([0]);
    for (const topic of ["open/x", "secret/x", "open/x", "open/y", "secret/x", "open/y"])
      pub.publish(topic, topic);
    await pub.take();
    expect(publishes(await sub.take()).map((p) => p.topic)).toEqual(["open/x", "open/x", "open/y", "open/y"]);
    expect(hub.stats().publishDenied).toBe(2);
    pub.publish("open/+", "wild"); // invalid, right after a valid topic of the same length
    await pub.take();
    expect(pub.transport.closed).toBe(true);
  });

  test("[MQTT-3.3.2-2] a wildcard in a PUBLISH topic closes only that connection", async () => {
    const { sub, pub } = await setup();
    pub.publish("a/+", "x");
    await pub.take();
    expect(pub.transport.closed).toBe(true);
    expect(sub.transport.closed).toBe(false);
  });

  test("[MQTT-4.7.2-1] $ topics are not matched by # but by $SYS/#", async () => {
    const { sub, pub } = await setup();
    await sub.subscribe("#", 0);
    pub.publish("$hw/x", "hidden");
    expect(publishes(await sub.take())).toEqual([]);
  });

  test("retained: set, replace, clear with empty payload; delivered on subscribe with RETAIN=1 [MQTT-3.3.1-8]", async () => {
    const { sub, pub } = await setup();
    pub.publish("r/a", "1", 1, true, 1);
    pub.publish("r/a", "2", 0, true);
    pub.publish("r/b", "b", 0, true);
    pub.publish("r/b", "", 0, true); // [MQTT-3.3.1-10]
    await pub.take();
    await sub.subscribe("r/#", 1);
    expect(publishes(await sub.take())).toEqual([]); // SUBACK already taken with its retained messages
    expect(hub.stats().retained).toBe(1);
    const late = new TestClient(hub);
    await late.connect({ clientId: "late" });
    late.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "r/#", qos: 1 }] });
    const packets = await late.take();
    expect(packets.map((p) => p.cmd)).toEqual(["suback", "publish"]); // [MQTT-3.8.4-1] SUBACK first
    expect(publishes(packets)).toEqual([
      expect.objectContaining({ topic: "r/a", payload: "2", retain: true, qos: 0 }),
    ]);
  });

  test("routes republish to the target topic at min QoS", async () => {
    const route: HubRoute = { source: { topic: "in/#", qos: 1 }, target: { topic: "out", qos: 2 } };
    const { sub, pub } = await setup({}, [route]);
    await sub.subscribe("out", 2);
    pub.publish("in/x", "r", 2, false, 1);
    expect(publishes(await sub.take())).toEqual([
      expect.objectContaining({ topic: "out", payload: "r", qos: 1 }),
    ]);
  });

  test("$SYS statistics only while someone subscribes", async () => {
    const clock = new FakeClock();
    const { sub } = await setup({}, [], clock);
    expect(clock.pendingTimers()).toBe(0);
    await sub.subscribe("$SYS/broker/clients/connected", 0);
    await clock.advance(0);
    expect(publishes(await sub.take())).toEqual([expect.objectContaining({ payload: "2" })]);
    await clock.advance(10_000);
    expect(publishes(await sub.take()).length).toBe(1);
    sub.send({ cmd: "unsubscribe", messageId: 2, unsubscriptions: ["$SYS/broker/clients/connected"] });
    await sub.take();
    expect(clock.pendingTimers()).toBe(0);
  });

  test("live retry: unacknowledged QoS 1 resent with DUP after retryIntervalMs", async () => {
    const clock = new FakeClock();
    const { sub, pub } = await setup({ retryIntervalMs: 1000 }, [], clock);
    await sub.subscribe("r", 1);
    pub.publish("r", "x", 1, false, 1);
    const [first] = publishes(await sub.take());
    await clock.advance(1000);
    const [again] = publishes(await sub.take());
    expect(again).toEqual(expect.objectContaining({ dup: true, messageId: first?.messageId }));
    sub.send({ cmd: "puback", messageId: first?.messageId ?? 0 });
    await sub.take();
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe("messages kept past the turn own their bytes", () => {
  // received messages are views into the read chunk: kept ones must not pin it
  const owns = (b: Uint8Array) => b.byteOffset === 0 && b.buffer.byteLength === b.length;

  test("queued for an offline session, retained, and handed to an in-process handler", async () => {
    const { pub } = await setup();
    const sub = new TestClient(hub);
    await sub.connect({ clientId: "keeper", clean: false });
    await sub.subscribe("keep/#", 1);
    sub.raw([0xe0, 0]); // DISCONNECT: the persistent session goes offline
    await sub.take();
    const got: InprocMessage[] = [];
    hub.client({ clientId: "module" }).subscribe("keep/#", 0, (m) => void got.push(m));
    // one chunk with three PUBLISH frames and padding around them
    const chunk = new Uint8Array(4096);
    let at = 100;
    for (const [topic, body, flags] of [
      ["keep/q", "queued", 0x32],
      ["keep/r", "retained", 0x31],
      ["keep/i", "inproc", 0x30],
    ] as const) {
      const t = new TextEncoder().encode(topic);
      const p = new TextEncoder().encode(body);
      const id = flags & 0x06 ? [0, 7] : [];
      const frame = [flags, 2 + t.length + id.length + p.length, 0, t.length, ...t, ...id, ...p];
      chunk.set(frame, at);
      at += frame.length;
    }
    pub.raw(chunk.subarray(100, at));
    await pub.take();
    await tick();
    const queued = (
      hub as unknown as { sessions: Map<string, { queue: Array<{ msg: { payload: Uint8Array } }> | null }> }
    ).sessions.get("keeper")?.queue?.[0]?.msg.payload;
    expect(queued && [new TextDecoder().decode(queued), owns(queued)]).toEqual(["queued", true]);
    const retained = [
      ...(
        hub as unknown as { retained: { match(f: string): Iterable<{ payload: Uint8Array }> } }
      ).retained.match("keep/r"),
    ];
    expect(retained.map((m) => owns(m.payload))).toEqual([true]);
    // the handler runs after all three were published (one object reused for each): its copies hold
    expect(got.map((m) => [m.topic, new TextDecoder().decode(m.payload), owns(m.payload)])).toEqual([
      ["keep/q", "queued", true],
      ["keep/r", "retained", true],
      ["keep/i", "inproc", true],
    ]);
  });
});

describe("in-process client", () => {
  test("publish/subscribe with QoS, retain and permissions like a network client", async () => {
    const { sub } = await setup();
    await sub.subscribe("mod/#", 1);
    const denied = {
      name: "m",
      canPublish: (t: string) => t !== "mod/no",
      canSubscribe: (f: string) => f !== "no",
    };
    const c = hub.client({ clientId: "module", principal: denied });
    const got: InprocMessage[] = [];
    expect(c.subscribe("no", 0, () => {})).toBe(0x80);
    expect(c.subscribe("net/#", 2, (m) => void got.push(m))).toBe(2);
    await c.publish("mod/a", "hello", { qos: 1, retain: true });
    await c.publish("mod/no", "dropped", { qos: 1 });
    expect(publishes(await sub.take()).map((p) => [p.topic, p.payload, p.qos])).toEqual([
      ["mod/a", "hello", 1],
    ]);
    sub.publish("net/x", "to module", 2, false, 4);
    await sub.take();
    await tick();
    expect(got.map((m) => [m.topic, new TextDecoder().decode(m.payload), m.qos])).toEqual([
      ["net/x", "to module", 2],
    ]);
    const late = hub.client({ clientId: "late" });
    const retained: InprocMessage[] = [];
    late.subscribe("mod/#", 0, (m) => void retained.push(m));
    await tick();
    expect(retained.map((m) => [m.topic, m.retain])).toEqual([["mod/a", true]]);
    c.close();
    late.close();
    expect(hub.stats().sessions).toBe(2);
  });
});
