// busypoll: while traffic keeps coming the hub keeps its event loop polling for a bounded window after
// it, then sleeps; an idle hub spends nothing, and a hub not given a window never polls (the 200us
// default is the config's: see config.test.ts).

import { afterEach, expect, test } from "bun:test";
import { Hub } from "../../../src/hub/hub.ts";
import { TestClient, testAuthenticator } from "./helpers.ts";

let hub: Hub | undefined;
afterEach(() => hub?.close());

async function trafficThenIdle(busyPollMs?: number): Promise<[number, number, number]> {
  // a CPU to spare whatever else this machine runs (the load check has its own tests)
  hub = new Hub({
    authenticator: testAuthenticator,
    cpuSpare: () => true,
    ...(busyPollMs === undefined ? {} : { busyPollMs }),
  });
  await hub.start();
  const c = new TestClient(hub);
  await c.connect({ clientId: "c" });
  await c.subscribe("t", 0);
  c.publish("t", "x");
  await c.take();
  await Bun.sleep(40); // well past the window
  const afterTraffic = hub.stats().busyPollTurns;
  await Bun.sleep(40);
  const idle = hub.stats().busyPollTurns;
  for (const m of ["y", "z", "w"]) {
    c.publish("t", m);
    await c.take();
  }
  await Bun.sleep(40);
  return [afterTraffic, idle, hub.stats().busyPollTurns];
}

test("after traffic the loop polls for the window, then the idle hub stops polling", async () => {
  const [afterTraffic, idle, again] = await trafficThenIdle(5);
  expect(afterTraffic).toBeGreaterThan(0);
  expect(idle).toBe(afterTraffic);
  expect(again).toBeGreaterThan(idle);
});

test("no window given, no polling", async () => {
  expect(await trafficThenIdle()).toEqual([0, 0, 0]);
});
