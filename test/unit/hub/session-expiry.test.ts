// Offline persistent sessions expire `sessionExpiryMs` after their client left: one clock timer for
// the earliest deadline, none while no session is offline.

import { afterEach, describe, expect, test } from "bun:test";
import { DEFAULT_HUB_LIMITS } from "../../../src/hub/contracts.ts";
import { Hub } from "../../../src/hub/hub.ts";
import { MemoryPersistence } from "../../../src/hub/persistence-memory.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { MemorySink, SinkLogger } from "../../../src/log/index.ts";
import { publishes, TestClient, testAuthenticator, tick } from "./helpers.ts";

const EXPIRY = 60_000;
let hub: Hub;
let clock: FakeClock;
let persistence: MemoryPersistence;
let logs: MemorySink;

async function newHub(sessionExpiryMs = EXPIRY): Promise<void> {
  clock = new FakeClock();
  persistence = new MemoryPersistence();
  logs = new MemorySink();
  const limits = { ...DEFAULT_HUB_LIMITS, sessionExpiryMs };
  hub = new Hub({
    authenticator: testAuthenticator,
    limits,
    clock,
    persistence,
    log: new SinkLogger([logs]),
  });
  await hub.start();
}

afterEach(() => hub.close());

/** A persistent subscriber to `t` that goes offline with `queued` QoS 1 messages waiting for it. */
async function offlineWithQueue(clientId: string, queued: number): Promise<void> {
  const sub = new TestClient(hub);
  await sub.connect({ clientId, clean: false });
  await sub.subscribe("t", 1);
  sub.sink.closed();
  const pub = new TestClient(hub);
  await pub.connect({ clientId: `pub-${clientId}` });
  for (let i = 0; i < queued; i++) pub.publish("t", `m${i}`, 1, false, i + 1);
  await pub.take();
  pub.send({ cmd: "disconnect" });
  await tick();
}

describe("hub: offline session expiry", () => {
  test("an idle hub has no timers; one offline session arms one", async () => {
    await newHub();
    const c = new TestClient(hub);
    await c.connect({ clientId: "online", clean: false });
    await c.subscribe("t", 1);
    expect(clock.pendingTimers()).toBe(0);
    await offlineWithQueue("a", 0);
    expect(clock.pendingTimers()).toBe(1);
  });

  test("expires at the deadline, not before: session, subscriptions and queue gone, counted and logged", async () => {
    await newHub();
    await offlineWithQueue("a", 3);
    expect(persistence.load().sessions.find((s) => s.clientId === "a")?.outgoing.length).toBe(3);
    await clock.advance(EXPIRY - 1);
    expect(hub.stats()).toEqual(
      expect.objectContaining({ sessions: 1, subscriptions: 1, sessionsExpired: 0 }),
    );
    await clock.advance(1);
    await tick();
    expect(hub.stats()).toEqual(
      expect.objectContaining({ sessions: 0, subscriptions: 0, sessionsExpired: 1 }),
    );
    expect(persistence.load().sessions).toEqual([]);
    expect(logs.find("session_expired")).toEqual(
      expect.objectContaining({ level: "info", fields: { client_id: "a", queued_dropped: 3 } }),
    );
    expect(clock.pendingTimers()).toBe(0);
  });

  test("$SYS/broker/clients/expired publishes the count of expired sessions", async () => {
    await newHub();
    const watcher = new TestClient(hub);
    await watcher.connect({ clientId: "watcher" });
    await watcher.subscribe("$SYS/broker/clients/expired", 0);
    await clock.advance(0);
    expect(publishes(await watcher.take()).map((p) => p.payload)).toEqual(["0"]);
    await offlineWithQueue("a", 0);
    // past the deadline by one $SYS interval, so the last round follows the expiry
    await clock.advance(EXPIRY + 10_000);
    await tick();
    const rounds = publishes(await watcher.take()).filter((p) => p.topic === "$SYS/broker/clients/expired");
    expect(rounds.at(-1)?.payload).toBe("1");
  });

  test("one timer for many offline sessions, each expiring at its own deadline", async () => {
    await newHub();
    await offlineWithQueue("a", 0);
    await clock.advance(10_000);
    await offlineWithQueue("b", 0);
    await offlineWithQueue("c", 0);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(EXPIRY - 10_000);
    expect(hub.stats()).toEqual(expect.objectContaining({ sessions: 2, sessionsExpired: 1 }));
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(10_000);
    expect(hub.stats()).toEqual(expect.objectContaining({ sessions: 0, sessionsExpired: 3 }));
    expect(clock.pendingTimers()).toBe(0);
  });

  test("a reconnect before the deadline cancels it; the next disconnect starts a new one", async () => {
    await newHub();
    await offlineWithQueue("a", 0);
    await clock.advance(EXPIRY - 1);
    const back = new TestClient(hub);
    expect(await back.connect({ clientId: "a", clean: false })).toEqual(
      expect.objectContaining({ sessionPresent: true }),
    );
    expect(clock.pendingTimers()).toBe(0);
    expect(persistence.load().sessions.find((s) => s.clientId === "a")?.offlineSince).toBeNull();
    await clock.advance(EXPIRY * 2);
    expect(hub.stats().sessionsExpired).toBe(0);
    back.sink.closed();
    expect(persistence.load().sessions.find((s) => s.clientId === "a")?.offlineSince).toBe(clock.now());
    await clock.advance(EXPIRY);
    expect(hub.stats().sessionsExpired).toBe(1);
  });

  test("a clean session taking the client id over before the deadline removes the session and its deadline", async () => {
    await newHub();
    await offlineWithQueue("a", 1);
    const clean = new TestClient(hub);
    await clean.connect({ clientId: "a", clean: true });
    expect(clock.pendingTimers()).toBe(0);
  });

  test("an expired session's client reconnecting gets SessionPresent 0 and none of the old messages", async () => {
    await newHub();
    await offlineWithQueue("a", 2);
    await clock.advance(EXPIRY);
    const back = new TestClient(hub);
    expect(await back.connect({ clientId: "a", clean: false })).toEqual(
      expect.objectContaining({ returnCode: 0, sessionPresent: false }),
    );
    expect(publishes(await back.take())).toEqual([]);
    const pub = new TestClient(hub);
    await pub.connect({ clientId: "p2" });
    pub.publish("t", "new", 1, false, 1);
    await pub.take();
    expect(publishes(await back.take())).toEqual([]); // its subscription went with it
  });

  test("sessionExpiryMs 0: offline sessions never expire and no timer is armed", async () => {
    await newHub(0);
    await offlineWithQueue("a", 1);
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(365 * 24 * 3600 * 1000);
    expect(hub.stats()).toEqual(expect.objectContaining({ sessions: 1, sessionsExpired: 0 }));
  });

  test("a deadline beyond setTimeout's range is reached in steps, not fired at once", async () => {
    const days = 30 * 24 * 3600 * 1000;
    await newHub(days);
    await offlineWithQueue("a", 0);
    await clock.advance(days - 1);
    expect(hub.stats().sessionsExpired).toBe(0);
    await clock.advance(1);
    expect(hub.stats().sessionsExpired).toBe(1);
  });
});
