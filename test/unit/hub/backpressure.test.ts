import { afterEach, describe, expect, test } from "bun:test";
import { DEFAULT_HUB_LIMITS } from "../../../src/hub/contracts.ts";
import { Hub } from "../../../src/hub/hub.ts";
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
    await sub.take();
    expect(pub.paused).toBe(true);
    await clock.advance(STALL_MS);
    expect(pub.paused).toBe(false);
    expect(hub.stats().stalledClients).toBe(1);
    pub.raw(flood("bp", DEFAULT_HUB_LIMITS.maxQueued));
    await sub.take();
    expect(pub.pauses).toBe(1); // not held again while the subscriber stays stalled
    expect(hub.stats().dropped).toBeGreaterThan(0);
  });

  test("a client is never held by its own subscription (its acks would be in the unread bytes)", async () => {
    const { pub } = await setup();
    await pub.subscribe("self", 0, 7);
    pub.transport.accepting = false;
    pub.raw(flood("self", 1));
    await pub.take();
    pub.raw(flood("self", HOLD_QUEUED * 2));
    await pub.take();
    expect(pub.pauses).toBe(0);
  });
});
