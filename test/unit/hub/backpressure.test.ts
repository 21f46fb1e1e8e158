import { afterEach, describe, expect, test } from "bun:test";
import { QUIET_MS, QUIET_READ_BUDGET } from "../../../src/hub/connection.ts";
import { DEFAULT_HUB_LIMITS } from "../../../src/hub/contracts.ts";
import { Hub, READ_BUDGET } from "../../../src/hub/hub.ts";
import { HOLD_QUEUED, STALL_MS } from "../../../src/hub/session.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { publishes, TestClient, testAuthenticator } from "./helpers.ts";

/** A TestClient whose transport can pause reading, counting pauses and resumes. */
class PausableClient extends TestClient {
  paused = false;
  pauses = 0;
  constructor(hub: Hub) {
    super(hub);
    this.transport.pause = () => {
      this.paused = true;
      this.pauses++;
    };
    this.transport.resume = () => {
      this.paused = false;
    };
  }
}

/** One frame carrying `count` QoS 0 PUBLISHes to `topic` (as a flooding client's socket delivers them). */
function flood(topic: string, count: number): Uint8Array {
  const t = new TextEncoder().encode(topic);
  const frame = Uint8Array.from([0x30, 2 + t.length + 1, 0, t.length, ...t, 0x78]);
  const out = new Uint8Array(frame.length * count);
  for (let i = 0; i < count; i++) out.set(frame, i * frame.length);
  return out;
}

/** Runs hub turns until `done` (a flood is parsed a read budget per turn). */
async function turnsUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await hub.turn();
}

let hub: Hub;
let clock: FakeClock;
async function setup() {
  clock = new FakeClock();
  hub = new Hub({ authenticator: testAuthenticator, limits: { ...DEFAULT_HUB_LIMITS }, clock });
  await hub.start();
  const sub = new TestClient(hub);
  await sub.connect({ clientId: "sub" });
  await sub.subscribe("bp", 0);
  const pub = new PausableClient(hub);
  await pub.connect({ clientId: "pub" });
  sub.transport.accepting = false; // the subscriber's socket is full from the first write on
  pub.raw(flood("bp", 1));
  await sub.take();
  return { sub, pub };
}
afterEach(() => hub?.close());

describe("backpressure to publishers", () => {
  test("a backed-up subscriber pauses its publisher instead of dropping QoS 0; drained, everything arrives", async () => {
    const { sub, pub } = await setup();
    const total = 1 + HOLD_QUEUED * 3;
    pub.raw(flood("bp", total - 1));
    await turnsUntil(() => hub.stats().publishersHeld > 0);
    await sub.take();
    expect(pub.paused).toBe(true);
    expect(hub.stats().dropped).toBe(0);
    expect(hub.stats().publishersHeld).toBe(1);
    let received = 1;
    for (let i = 0; i < 20 && received < total; i++) {
      sub.transport.accepting = true;
      sub.sink.drained();
      received += publishes(await sub.take()).length;
    }
    expect(received).toBe(total);
    expect(pub.paused).toBe(false);
    expect(hub.stats().dropped).toBe(0);
  });

  test("a subscriber backed up past the stall deadline lets its publishers go (then drops, counted)", async () => {
    const { sub, pub } = await setup();
    pub.raw(flood("bp", HOLD_QUEUED * 2));
    await turnsUntil(() => hub.stats().publishersHeld > 0);
    expect(pub.paused).toBe(true);
    await clock.advance(STALL_MS);
    // The bytes read before the pause are parsed a read budget per turn, then reading resumes.
    await turnsUntil(() => !pub.paused);
    expect(pub.paused).toBe(false);
    expect(hub.stats().stalledClients).toBe(1);
    pub.raw(flood("bp", DEFAULT_HUB_LIMITS.maxQueued));
    await turnsUntil(() => !pub.paused);
    await sub.take();
    expect(hub.stats().publishersHeld).toBe(1); // not held again while the subscriber stays stalled
    expect(hub.stats().dropped).toBeGreaterThan(0);
  });

  test("fairness: a flood parsed a read budget per turn; another client's packet is not kept behind it", async () => {
    const { sub, pub } = await setup();
    sub.transport.accepting = true;
    sub.sink.drained();
    await sub.take();
    const probe = new TestClient(hub);
    await probe.connect({ clientId: "probe" });
    await probe.subscribe("pp", 0);
    const total = 20_000; // ~140 kB in one read, as a socket hands a flooding publisher's bytes over
    pub.raw(flood("bp", total));
    probe.raw(flood("pp", 1));
    const first = publishes(await probe.take());
    expect(first.length).toBe(1); // out with the first turn, not after 20,000 frames
    expect(pub.paused).toBe(true); // the rest waits, unread, for the next turns
    let received = publishes(await sub.take()).length;
    expect(received).toBeLessThan(total);
    expect(received).toBeLessThan((4 * READ_BUDGET) / 7 + 10); // a budget per turn, two turns at most
    for (let i = 0; i < 1000 && received < total; i++) received += publishes(await sub.take()).length;
    expect(received).toBe(total);
    expect(pub.paused).toBe(false);
    expect(hub.stats().dropped).toBe(0);
  });

  test("a quiet client's burst is parsed in one turn; a client reading on gets the per-turn budget", async () => {
    const { sub, pub } = await setup();
    sub.transport.accepting = true;
    sub.sink.drained();
    await sub.take();
    const burst = 2000; // 14 KB: over the per-turn budget, under a quiet client's
    expect(burst * 7).toBeGreaterThan(4 * READ_BUDGET);
    expect(burst * 7).toBeLessThan(QUIET_READ_BUDGET);
    await clock.advance(QUIET_MS);
    pub.raw(flood("bp", burst));
    expect(publishes(await sub.take()).length).toBe(burst); // one turn, one write
    expect(pub.pauses).toBe(0);
    pub.raw(flood("bp", burst)); // right after its last read: not quiet
    expect(publishes(await sub.take()).length).toBeLessThan(burst);
    expect(pub.paused).toBe(true);
    await turnsUntil(() => !pub.paused);
    await sub.take();
    expect(hub.stats().dropped).toBe(0);
  });

  test("a client is never held by its own subscription (its acks would be in the unread bytes)", async () => {
    const { pub } = await setup();
    await pub.subscribe("self", 0, 7);
    pub.transport.accepting = false;
    pub.raw(flood("self", 1));
    await pub.take();
    pub.raw(flood("self", HOLD_QUEUED * 2));
    await turnsUntil(() => !pub.paused);
    await pub.take();
    expect(hub.stats().publishersHeld).toBe(0);
  });
});
