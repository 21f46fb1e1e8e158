// Every persistence write is committed by a hub turn of its own, also when the packet that caused it
// gets no answer. Regression: a subscriber's PUBCOMP or PUBACK, a QoS 0 retained PUBLISH and a client
// going offline stayed uncommitted until unrelated traffic ran a turn, so a crash in between resent a
// completed QoS 2 delivery (PUBREL) or lost the retained message.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_HUB_LIMITS } from "../../../src/hub/contracts.ts";
import { Hub } from "../../../src/hub/hub.ts";
import { SqlitePersistence } from "../../../src/hub/persistence-sqlite.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { publishes, TestClient, testAuthenticator, tick } from "./helpers.ts";

let hub: Hub;
let store: SqlitePersistence;
let dir: string;

async function newHub(): Promise<{ sub: TestClient; pub: TestClient }> {
  dir = mkdtempSync(join(tmpdir(), "oe-hub-commit-"));
  store = new SqlitePersistence({ dir });
  hub = new Hub({
    authenticator: testAuthenticator,
    limits: DEFAULT_HUB_LIMITS,
    persistence: store,
    clock: new FakeClock(),
  });
  await hub.start();
  const sub = new TestClient(hub);
  await sub.connect({ clientId: "sub", clean: false });
  const pub = new TestClient(hub);
  await pub.connect({ clientId: "pub" });
  return { sub, pub };
}

afterEach(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a restart would find for the persistent subscriber: its outgoing rows as committed on disk. */
function committedOutgoing(): string[] {
  const session = store.load().sessions.find((s) => s.clientId === "sub");
  return (session?.outgoing ?? []).map((o) => `${o.packetId} ${o.state}`);
}

describe("hub: writes without an answer are committed in their own turn", () => {
  test("[MQTT-4.3.3-1] PUBCOMP for a QoS 2 delivery: the completed message is gone from storage", async () => {
    const { sub, pub } = await newHub();
    await sub.subscribe("q", 2);
    pub.publish("q", "m", 2, false, 1);
    pub.send({ cmd: "pubrel", messageId: 1 });
    await pub.take();
    const [delivered] = publishes(await sub.take());
    const id = delivered?.messageId ?? 0;
    expect(delivered?.qos).toBe(2);
    sub.send({ cmd: "pubrec", messageId: id });
    expect((await sub.take()).map((p) => p.cmd)).toEqual(["pubrel"]);
    expect(committedOutgoing()).toEqual([`${id} pubrel`]);

    sub.send({ cmd: "pubcomp", messageId: id }); // nothing is sent back for it
    await tick();
    expect(store.dirty).toBe(false);
    expect(committedOutgoing()).toEqual([]);
  });

  test("PUBACK alone: the acknowledged message is not resent after a restart", async () => {
    const { sub, pub } = await newHub();
    await sub.subscribe("q", 1);
    pub.publish("q", "m", 1, false, 1);
    await pub.take();
    const [delivered] = publishes(await sub.take());
    sub.send({ cmd: "puback", messageId: delivered?.messageId ?? 0 });
    await tick();
    expect(store.dirty).toBe(false);
    expect(committedOutgoing()).toEqual([]);
  });

  test("a QoS 0 retained PUBLISH and a persistent client going offline are stored without other traffic", async () => {
    const { sub, pub } = await newHub();
    pub.publish("r", "kept", 0, true);
    sub.sink.closed();
    await tick();
    expect(store.dirty).toBe(false);
    const state = store.load();
    expect(state.retained.map((r) => r.topic)).toEqual(["r"]);
    expect(state.sessions.find((s) => s.clientId === "sub")?.offlineSince).not.toBeNull();
  });
});
