// One suite for every hub persistence backend: the store's own contract, then a hub "crash" (the Hub
// dropped without close, a new one on the same store) that must lose nothing it acknowledged.

import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_HUB_LIMITS } from "../../src/hub/contracts.ts";
import { Hub } from "../../src/hub/hub.ts";
import type { HubPersistence } from "../../src/hub/persistence.ts";
import { MemoryPersistence } from "../../src/hub/persistence-memory.ts";
import { SqlitePersistence } from "../../src/hub/persistence-sqlite.ts";
import { FakeClock } from "../../src/lib/clock.ts";
import { publishes, TestClient, testAuthenticator, tick } from "../unit/hub/helpers.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Backend {
  name: string;
  /** A store; `reopen` gives one over the same data, as a restarted process would. */
  open(): { store: HubPersistence; reopen(): HubPersistence };
}

const backends: Backend[] = [
  {
    name: "memory",
    open() {
      const store = new MemoryPersistence();
      return { store, reopen: () => store };
    },
  },
  {
    name: "sqlite",
    open() {
      const dir = mkdtempSync(join(tmpdir(), "hub-persist-"));
      dirs.push(dir);
      return { store: new SqlitePersistence({ dir }), reopen: () => new SqlitePersistence({ dir }) };
    },
  },
];

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

for (const backend of backends) {
  describe(`hub persistence: ${backend.name}`, () => {
    test("retained messages: set, replace, clear", () => {
      const { store, reopen } = backend.open();
      store.setRetained("a", { topic: "a", payload: bytes("1"), qos: 1, retain: true });
      store.setRetained("a", { topic: "a", payload: bytes("2"), qos: 0, retain: true });
      store.setRetained("b", { topic: "b", payload: bytes("x"), qos: 0, retain: true });
      store.setRetained("b", null);
      store.commit();
      const { retained } = reopen().load();
      expect(retained.map((m) => [m.topic, text(m.payload), m.qos])).toEqual([["a", "2", 0]]);
    });

    test("sessions with subscriptions, outgoing rows in order and incoming QoS 2 ids", () => {
      const { store, reopen } = backend.open();
      store.saveSession("c");
      store.setSubscription("c", "a/#", 1);
      store.setSubscription("c", "b", 2);
      store.setSubscription("c", "b", null);
      const row = (seq: number, packetId = 0) => ({
        clientId: "c",
        seq,
        message: { topic: "t", payload: bytes(`m${seq}`), qos: 1 as const, retain: false },
        packetId,
        state: "publish" as const,
      });
      store.putOutgoing(row(1), true);
      store.putOutgoing(row(2), true);
      store.putOutgoing(row(1, 7), false);
      store.putOutgoing(row(3), true);
      store.deleteOutgoing("c", 3); // inserted and deleted in one batch
      store.setIncomingQos2("c", 9, true);
      store.setIncomingQos2("c", 10, true);
      store.setIncomingQos2("c", 10, false);
      store.saveSession("gone");
      store.setSubscription("gone", "x", 0);
      store.deleteSession("gone");
      store.commit();
      store.deleteOutgoing("c", 2);
      store.commit();
      const { sessions } = reopen().load();
      expect(sessions).toEqual([
        {
          clientId: "c",
          subscriptions: [{ filter: "a/#", qos: 1 }],
          outgoing: [expect.objectContaining({ seq: 1, packetId: 7, state: "publish" })],
          incomingQos2: [9],
          offlineSince: null,
        },
      ]);
      expect(text(sessions[0]?.outgoing[0]?.message.payload ?? bytes(""))).toBe("m1");
    });

    test("many outgoing rows across clients, some acknowledged in and out of order: exactly the rest stay", () => {
      const { store, reopen } = backend.open();
      const row = (clientId: string, seq: number) => ({
        clientId,
        seq,
        message: {
          topic: `t/${seq}`,
          payload: bytes(`${clientId}${seq}`),
          qos: 1 as const,
          retain: seq % 2 === 0,
        },
        packetId: seq,
        state: "publish" as const,
      });
      for (const c of ["a", "b"]) store.saveSession(c);
      for (let seq = 1; seq <= 40; seq++) for (const c of ["a", "b"]) store.putOutgoing(row(c, seq), true);
      store.commit();
      // runs (2-9, 30-31), single seqs, and a run broken by a seq that stays (20 kept, 19 and 21 gone)
      const gone = [9, 8, 2, 3, 4, 5, 6, 7, 12, 19, 21, 31, 30, 40];
      for (const seq of gone) store.deleteOutgoing("a", seq);
      store.deleteOutgoing("b", 1);
      store.putOutgoing({ ...row("a", 20), packetId: 99, state: "pubrel" as const }, false);
      for (let seq = 41; seq <= 60; seq++) store.putOutgoing(row("a", seq), true);
      store.commit();
      const sessions = reopen().load().sessions;
      const seqs = (c: string) => sessions.find((x) => x.clientId === c)?.outgoing.map((r) => r.seq);
      const kept = Array.from({ length: 60 }, (_, i) => i + 1).filter((seq) => !gone.includes(seq));
      expect(seqs("a")).toEqual(kept);
      expect(seqs("b")).toEqual(Array.from({ length: 39 }, (_, i) => i + 2));
      const a = sessions.find((x) => x.clientId === "a")?.outgoing ?? [];
      expect(a.find((r) => r.seq === 20)).toMatchObject({ packetId: 99, state: "pubrel" });
      const last = a.at(-1);
      expect(last && [last.message.topic, text(last.message.payload), last.message.retain]).toEqual([
        "t/60",
        "a60",
        true,
      ]);
    });

    test("a session's offline time: set, cleared, kept with the session", () => {
      const { store, reopen } = backend.open();
      store.saveSession("a");
      store.saveSession("b");
      store.setOffline("a", 1234);
      store.setOffline("b", 99);
      store.setOffline("b", null);
      store.commit();
      store.saveSession("a"); // an existing session keeps its offline time
      store.commit();
      const got = reopen()
        .load()
        .sessions.map((s) => [s.clientId, s.offlineSince]);
      expect(got.sort()).toEqual([
        ["a", 1234],
        ["b", null],
      ]);
    });

    test("restart keeps an offline session's expiry deadline: it runs from when the client left", async () => {
      const { store, reopen } = backend.open();
      const clock = new FakeClock();
      const limits = { ...DEFAULT_HUB_LIMITS, sessionExpiryMs: 60_000 };
      const hub1 = new Hub({ authenticator: testAuthenticator, persistence: store, clock, limits });
      await hub1.start();
      const sub = new TestClient(hub1);
      await sub.connect({ clientId: "sub", clean: false });
      await sub.subscribe("t", 1);
      sub.sink.closed(); // offline from now
      const pub = new TestClient(hub1);
      await pub.connect({ clientId: "pub" });
      pub.publish("t", "queued", 1, false, 1);
      await pub.take();
      await hub1.close();
      await clock.advance(40_000);
      const hub2 = new Hub({ authenticator: testAuthenticator, persistence: reopen(), clock, limits });
      await hub2.start();
      expect(clock.pendingTimers()).toBe(1);
      await clock.advance(19_999);
      expect(hub2.stats().sessions).toBe(1);
      await clock.advance(1);
      await tick();
      expect(hub2.stats()).toEqual(expect.objectContaining({ sessions: 0, sessionsExpired: 1 }));
      expect(clock.pendingTimers()).toBe(0);
      await hub2.close();
      const hub3 = new Hub({ authenticator: testAuthenticator, persistence: reopen(), clock, limits });
      await hub3.start();
      expect(hub3.stats().sessions).toBe(0); // the expiry was committed
      const back = new TestClient(hub3);
      expect(await back.connect({ clientId: "sub", clean: false })).toEqual(
        expect.objectContaining({ returnCode: 0, sessionPresent: false }),
      );
      expect(publishes(await back.take())).toEqual([]);
      await hub3.close();
    });

    test("restart after a crash while connected: the session counts as offline from the start", async () => {
      const { store, reopen } = backend.open();
      const clock = new FakeClock();
      const limits = { ...DEFAULT_HUB_LIMITS, sessionExpiryMs: 60_000 };
      const hub1 = new Hub({ authenticator: testAuthenticator, persistence: store, clock, limits });
      await hub1.start();
      const sub = new TestClient(hub1);
      await sub.connect({ clientId: "sub", clean: false });
      await sub.subscribe("t", 1);
      await clock.advance(500_000); // hub1 is dropped with "sub" connected
      const hub2 = new Hub({ authenticator: testAuthenticator, persistence: reopen(), clock, limits });
      await hub2.start();
      await clock.advance(59_999);
      expect(hub2.stats().sessions).toBe(1);
      await clock.advance(1);
      expect(hub2.stats().sessionsExpired).toBe(1);
      await hub2.close();
    });

    test("restart: an offline persistent session gets its QoS 1/2 messages as promised, QoS 2 exactly once", async () => {
      const { store, reopen } = backend.open();
      const hub1 = new Hub({ authenticator: testAuthenticator, persistence: store });
      await hub1.start();
      const sub = new TestClient(hub1);
      await sub.connect({ clientId: "sub", clean: false });
      expect(await sub.subscribe("data/#", 2)).toEqual([2]);
      sub.sink.closed(); // offline now
      const pub = new TestClient(hub1);
      await pub.connect({ clientId: "pub" });
      pub.publish("data/1", "q1", 1, false, 1);
      pub.publish("data/2", "q2", 2, false, 2);
      pub.publish("data/0", "q0", 0); // QoS 0 is not kept for offline sessions
      pub.publish("data/r", "kept", 1, true, 3);
      // A QoS 2 publish from a persistent publisher, PUBREC received, PUBREL not yet sent.
      const pub2 = new TestClient(hub1);
      await pub2.connect({ clientId: "pub2", clean: false });
      pub2.publish("data/x", "once", 2, false, 5);
      const acks = [...(await pub.take()), ...(await pub2.take())].map((p) => p.cmd);
      expect(acks.sort()).toEqual(["puback", "puback", "pubrec", "pubrec"]);
      // Crash: hub1 is dropped without close; a new hub opens the same store.
      const hub2 = new Hub({ authenticator: testAuthenticator, persistence: reopen() });
      await hub2.start();
      const pub2again = new TestClient(hub2);
      await pub2again.connect({ clientId: "pub2", clean: false });
      pub2again.publish("data/x", "once", 2, false, 5, true); // DUP resend: not delivered twice [MQTT-4.3.3-2]
      pub2again.send({ cmd: "pubrel", messageId: 5 });
      expect((await pub2again.take()).map((p) => p.cmd)).toEqual(["pubrec", "pubcomp"]);
      const back = new TestClient(hub2);
      expect(await back.connect({ clientId: "sub", clean: false })).toEqual(
        expect.objectContaining({ returnCode: 0, sessionPresent: true }),
      );
      const got = publishes(await back.take());
      expect(got.map((p) => [p.topic, p.payload, p.qos])).toEqual([
        ["data/1", "q1", 1],
        ["data/2", "q2", 2],
        ["data/r", "kept", 1],
        ["data/x", "once", 2],
      ]);
      for (const p of got) {
        back.send(
          p.qos === 1 ? { cmd: "puback", messageId: p.messageId } : { cmd: "pubrec", messageId: p.messageId },
        );
      }
      const rels = (await back.take()).filter((p) => p.cmd === "pubrel");
      expect(rels.length).toBe(2);
      // Crash again before PUBCOMP: the QoS 2 messages come back as PUBREL only [MQTT-4.4.0-1].
      const hub3 = new Hub({ authenticator: testAuthenticator, persistence: reopen() });
      await hub3.start();
      const again = new TestClient(hub3);
      await again.connect({ clientId: "sub", clean: false });
      const resent = await again.take();
      expect(resent.map((p) => p.cmd)).toEqual(["pubrel", "pubrel"]);
      for (const p of resent) again.send({ cmd: "pubcomp", messageId: p.messageId });
      await again.take();
      await tick();
      const hub4 = new Hub({ authenticator: testAuthenticator, persistence: reopen() });
      await hub4.start();
      const last = new TestClient(hub4);
      await last.connect({ clientId: "sub", clean: false });
      expect(publishes(await last.take())).toEqual([]);
      expect(hub4.stats().retained).toBe(1);
      await hub4.close();
    });

    test("unacknowledged deliveries are resent with DUP and their packet ids [MQTT-4.4.0-1]", async () => {
      const { store, reopen } = backend.open();
      const hub1 = new Hub({ authenticator: testAuthenticator, persistence: store });
      await hub1.start();
      const sub = new TestClient(hub1);
      await sub.connect({ clientId: "s", clean: false });
      await sub.subscribe("t", 1);
      const pub = new TestClient(hub1);
      await pub.connect({ clientId: "p" });
      pub.publish("t", "m", 1, false, 1);
      await pub.take();
      const [first] = publishes(await sub.take());
      expect(first).toEqual(expect.objectContaining({ dup: false, qos: 1 }));
      const hub2 = new Hub({ authenticator: testAuthenticator, persistence: reopen() });
      await hub2.start();
      const back = new TestClient(hub2);
      await back.connect({ clientId: "s", clean: false });
      const [again] = publishes(await back.take());
      expect(again).toEqual(
        expect.objectContaining({ dup: true, messageId: first?.messageId, payload: "m" }),
      );
      await hub2.close();
    });
  });
}

test("hub persistence: sqlite opens a hub.db without offline times; its sessions count as offline from the start", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hub-persist-"));
  dirs.push(dir);
  const old = new Database(join(dir, "hub.db"), { create: true });
  old.exec("CREATE TABLE sessions (client_id TEXT PRIMARY KEY)");
  old.exec(
    "CREATE TABLE subscriptions (client_id TEXT NOT NULL, filter TEXT NOT NULL, qos INTEGER NOT NULL, PRIMARY KEY (client_id, filter))",
  );
  old.exec("INSERT INTO sessions (client_id) VALUES ('old')");
  old.exec("INSERT INTO subscriptions (client_id, filter, qos) VALUES ('old', 'a/#', 1)");
  old.close();
  const store = new SqlitePersistence({ dir });
  expect(store.load().sessions).toEqual([
    {
      clientId: "old",
      subscriptions: [{ filter: "a/#", qos: 1 }],
      outgoing: [],
      incomingQos2: [],
      offlineSince: null,
    },
  ]);
  const clock = new FakeClock();
  const limits = { ...DEFAULT_HUB_LIMITS, sessionExpiryMs: 1000 };
  const hub = new Hub({ authenticator: testAuthenticator, persistence: store, clock, limits });
  await hub.start();
  await hub.close();
  const reopened = new SqlitePersistence({ dir });
  expect(reopened.load().sessions[0]?.offlineSince).toBe(clock.now());
  reopened.close();
});

test("hub persistence: sqlite moves the outgoing rows of an older hub.db into its WITHOUT ROWID table", () => {
  const dir = mkdtempSync(join(tmpdir(), "hub-persist-"));
  dirs.push(dir);
  const old = new Database(join(dir, "hub.db"), { create: true });
  old.exec("CREATE TABLE sessions (client_id TEXT PRIMARY KEY, offline_since INTEGER)");
  old.exec(
    "CREATE TABLE outgoing (client_id TEXT NOT NULL, seq INTEGER NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL, packet_id INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (client_id, seq))",
  );
  old.exec("INSERT INTO sessions (client_id, offline_since) VALUES ('old', 5)");
  const insert = old.prepare("INSERT INTO outgoing VALUES ('old', ?, 't', ?, 1, 0, ?, 'publish')");
  for (const seq of [3, 1, 2]) insert.run(seq, bytes(`m${seq}`), seq + 10);
  old.close();
  const store = new SqlitePersistence({ dir });
  const outgoing = store.load().sessions[0]?.outgoing ?? [];
  expect(outgoing.map((r) => [r.seq, r.packetId, text(r.message.payload)])).toEqual([
    [1, 11, "m1"],
    [2, 12, "m2"],
    [3, 13, "m3"],
  ]);
  store.close();
  const check = new Database(join(dir, "hub.db"));
  const tables = check
    .query<{ name: string; sql: string }, []>("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
    .all();
  check.close();
  expect(tables.map((t) => t.name).sort()).toEqual([
    "incoming_qos2",
    "outgoing",
    "retained",
    "sessions",
    "subscriptions",
  ]);
  expect(tables.find((t) => t.name === "outgoing")?.sql).toContain("WITHOUT ROWID");
});
