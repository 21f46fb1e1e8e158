// The polling window: turns while it lasts, none after it or once stopped, and a window of 0 is off.

import { expect, test } from "bun:test";
import { BusyPoller } from "../../../src/lib/busy-poll.ts";
import { systemClock } from "../../../src/lib/clock.ts";

function counted(windowMs: number): { poller: BusyPoller; turns: () => number } {
  let n = 0;
  const poller = new BusyPoller(windowMs, systemClock, () => n++);
  return { poller, turns: () => n };
}

test("activity opens a window of polling turns that ends on its own", async () => {
  const { poller, turns } = counted(5);
  poller.extend();
  await Bun.sleep(30);
  const after = turns();
  expect(after).toBeGreaterThan(0);
  await Bun.sleep(30);
  expect(turns()).toBe(after);
  poller.extend(); // activity again: a new window
  await Bun.sleep(30);
  expect(turns()).toBeGreaterThan(after);
});

test("a window of 0 never polls, and a stopped poller stops at once", async () => {
  const off = counted(0);
  off.poller.extend();
  await Bun.sleep(10);
  expect(off.turns()).toBe(0);
  const stopped = counted(50);
  stopped.poller.extend();
  stopped.poller.stop();
  await Bun.sleep(10);
  expect(stopped.turns()).toBe(0);
});
