import { afterEach, describe, expect, test } from "bun:test";
import { DEFAULT_HUB_LIMITS } from "../../../src/hub/contracts.ts";
import { Hub } from "../../../src/hub/hub.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { publishes, TestClient, testAuthenticator } from "./helpers.ts";

let hub: Hub;
async function newHub(limits = DEFAULT_HUB_LIMITS, clock = new FakeClock()): Promise<Hub> {
  hub = new Hub({ authenticator: testAuthenticator, limits, clock });
  await hub.start();
  return hub;
}
afterEach(() => hub?.close());

const connack = (rc: number, sp = false) =>
  expect.objectContaining({ cmd: "connack", returnCode: rc, sessionPresent: sp });

describe("CONNECT", () => {
  test("[MQTT-3.1.0-1] a first packet other than CONNECT closes the connection", async () => {
    const c = new TestClient(await newHub());
    c.raw([0xc0, 0]); // PINGREQ
    expect(await c.take()).toEqual([]);
    expect(c.transport.closed).toBe(true);
  });

  test("[MQTT-3.1.2-2] an unsupported protocol level gets CONNACK 1", async () => {
    const c = new TestClient(await newHub());
    c.raw([0x10, 12, 0, 4, 77, 81, 84, 84, 5, 2, 0, 0, 0, 1, 97, 0].slice(0, 14).concat([0x61]));
    c.raw([]);
    const packets = await c.take();
    expect(packets[0]).toEqual(connack(1));
    expect(c.transport.closed).toBe(true);
  });

  test("[MQTT-3.1.2-1] an unknown protocol name closes without CONNACK", async () => {
    const c = new TestClient(await newHub());
    c.raw([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x58, 4, 2, 0, 0, 0, 1, 0x61]);
    expect(await c.take()).toEqual([]);
    expect(c.transport.closed).toBe(true);
  });

  test("[MQTT-3.1.2-3] the reserved connect flag set closes the connection", async () => {
    const c = new TestClient(await newHub());
    c.raw([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 3, 0, 0, 0, 1, 0x61]);
    expect(await c.take()).toEqual([]);
    expect(c.transport.closed).toBe(true);
  });

  test("[MQTT-3.1.3-8] empty client id with clean session 0 gets CONNACK 2", async () => {
    const c = new TestClient(await newHub());
    c.raw([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0, 0, 0, 0, 0]);
    expect(await c.take()).toEqual([connack(2)]);
    expect(c.transport.closed).toBe(true);
  });

  test("[MQTT-3.1.3-6] empty client id with clean session 1 is assigned one", async () => {
    const c = new TestClient(await newHub());
    expect(await c.connect({ clientId: "" })).toEqual(connack(0));
    expect(hub.stats().clients).toBe(1);
  });

  test("[MQTT-3.1.3-5] client ids: spaces and UTF-8 by default; the OpenEdge pattern refuses them (2)", async () => {
    const c = new TestClient(await newHub());
    expect(await c.connect({ clientId: "a b ü" })).toEqual(connack(0));
    await hub.close();
    const strict = {
      ...DEFAULT_HUB_LIMITS,
      maxClientIdBytes: 128,
      clientIdPattern: /^[0-9A-Za-z_-]{0,128}$/,
    };
    const d = new TestClient(await newHub(strict));
    expect(await d.connect({ clientId: "a b" })).toEqual(connack(2));
  });

  test("bad credentials → 4, not authorised → 5, async authenticator keeps pipelined packets", async () => {
    await newHub();
    expect(await new TestClient(hub).connect({ username: "u", password: "bad" })).toEqual(connack(4));
    expect(await new TestClient(hub).connect({ username: "nobody", password: "x" })).toEqual(connack(5));
    const slow = new TestClient(hub);
    slow.send({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clientId: "s",
      clean: true,
      keepalive: 0,
      username: "slow",
    });
    slow.send({ cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "t", qos: 0 }] });
    slow.publish("t", "hello");
    await Promise.resolve();
    const packets = await slow.take();
    expect(packets.map((p) => p.cmd)).toEqual(["connack", "suback", "publish"]);
    expect(hub.stats().connectionsRefused).toBe(2);
  });

  test("[MQTT-3.1.0-2] a second CONNECT closes the connection", async () => {
    const c = new TestClient(await newHub());
    await c.connect();
    await c.connect().catch(() => null);
    expect(c.transport.closed).toBe(true);
  });

  test("[MQTT-3.1.4-2] a second client with the same id takes over; the old connection is closed", async () => {
    await newHub();
    const a = new TestClient(hub);
    await a.connect({ clientId: "same", will: { topic: "will", payload: "gone", qos: 0, retain: false } });
    const watcher = new TestClient(hub);
    await watcher.connect({ clientId: "w" });
    await watcher.subscribe("will", 0);
    const b = new TestClient(hub);
    expect(await b.connect({ clientId: "same" })).toEqual(connack(0));
    expect(a.transport.closed).toBe(true);
    expect(b.transport.closed).toBe(false);
    expect(publishes(await watcher.take())).toEqual([
      expect.objectContaining({ topic: "will", payload: "gone" }),
    ]);
  });

  test("[MQTT-3.2.2-1] [MQTT-3.2.2-2] SessionPresent reflects a stored persistent session", async () => {
    await newHub();
    const a = new TestClient(hub);
    expect(await a.connect({ clientId: "p", clean: false })).toEqual(connack(0, false));
    a.send({ cmd: "disconnect" });
    const b = new TestClient(hub);
    expect(await b.connect({ clientId: "p", clean: false })).toEqual(connack(0, true));
    b.send({ cmd: "disconnect" });
    const c = new TestClient(hub);
    expect(await c.connect({ clientId: "p", clean: true })).toEqual(connack(0, false)); // [MQTT-3.1.2-6]
  });

  test("maxConnections refuses with CONNACK 3", async () => {
    await newHub({ ...DEFAULT_HUB_LIMITS, maxConnections: 1 });
    await new TestClient(hub).connect({ clientId: "a" });
    expect(await new TestClient(hub).connect({ clientId: "b" })).toEqual(connack(3));
  });
});

describe("keepalive and will", () => {
  test("[MQTT-3.1.2-24] keepalive enforced at 1.5×; the will is published on expiry", async () => {
    const clock = new FakeClock();
    await newHub(DEFAULT_HUB_LIMITS, clock);
    const watcher = new TestClient(hub);
    await watcher.connect({ clientId: "w" });
    await watcher.subscribe("will/#", 1);
    const c = new TestClient(hub);
    await c.connect({
      clientId: "k",
      keepalive: 10,
      will: { topic: "will/k", payload: "bye", qos: 1, retain: false },
    });
    await clock.advance(14_000);
    c.send({ cmd: "pingreq" }); // activity moves the deadline
    expect((await c.take()).map((p) => p.cmd)).toEqual(["pingresp"]);
    await clock.advance(14_999);
    expect(c.transport.closed).toBe(false);
    await clock.advance(1);
    expect(c.transport.closed).toBe(true);
    const [will] = publishes(await watcher.take());
    expect(will).toEqual(expect.objectContaining({ topic: "will/k", payload: "bye", qos: 1 }));
    watcher.send({ cmd: "puback", messageId: will?.messageId ?? 0 });
    await watcher.take();
    expect(clock.pendingTimers()).toBe(0); // no timer left for an idle hub
  });

  test("[MQTT-3.1.2-8] will published on abnormal close, [MQTT-3.14.4-3] not after DISCONNECT", async () => {
    await newHub();
    const watcher = new TestClient(hub);
    await watcher.connect({ clientId: "w" });
    await watcher.subscribe("will/#", 0);
    const a = new TestClient(hub);
    await a.connect({ clientId: "a", will: { topic: "will/a", payload: "x", qos: 0, retain: true } });
    a.sink.closed(new Error("reset"));
    const b = new TestClient(hub);
    await b.connect({ clientId: "b", will: { topic: "will/b", payload: "y", qos: 0, retain: false } });
    b.send({ cmd: "disconnect" });
    expect(publishes(await watcher.take()).map((p) => p.topic)).toEqual(["will/a"]);
    expect(hub.stats().retained).toBe(1); // the will's RETAIN flag is honoured [MQTT-3.1.2-17]
  });
});
