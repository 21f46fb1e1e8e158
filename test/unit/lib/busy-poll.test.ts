// The polling window: it grows while traffic keeps waking the loop within the longest window and
// shrinks to nothing while it does not; polling turns run while it lasts, never while other work waits
// for a CPU, none once stopped; a longest window of 0 is off.

import { expect, test } from "bun:test";
import { BusyPoller, PollWindow, runnableTasks } from "../../../src/lib/busy-poll.ts";
import { systemClock } from "../../../src/lib/clock.ts";

test("the window grows while sleeps stay within the longest window and shrinks to 0 after long ones", () => {
  const w = new PollWindow(0.2);
  expect(w.current).toBe(0);
  w.woke(0.15); // polling 0.2 ms would have caught it
  expect(w.current).toBeCloseTo(0.05);
  w.woke(0.1);
  expect(w.current).toBeCloseTo(0.1);
  w.woke(0.2);
  w.woke(0.01);
  expect(w.current).toBeCloseTo(0.2); // never past the longest
  w.woke(5); // sparse traffic: polling would only have burnt the CPU
  expect(w.current).toBeCloseTo(0.1);
  w.woke(5);
  expect(w.current).toBeCloseTo(0.05);
  w.woke(5);
  expect(w.current).toBe(0);
});

function counted(maxMs: number, cpuSpare = () => true): { poller: BusyPoller; turns: () => number } {
  let n = 0;
  const poller = new BusyPoller(maxMs, systemClock, () => n++, cpuSpare);
  return { poller, turns: () => n };
}

/** Activity twice in quick succession: the second finds the first's sleep short and opens a window. */
async function burst(poller: BusyPoller): Promise<void> {
  poller.extend();
  await Bun.sleep(0);
  poller.extend();
}

test("traffic that keeps coming opens a window of polling turns, which ends on its own", async () => {
  const { poller, turns } = counted(5);
  poller.extend();
  expect(poller.windowMs).toBe(0); // nothing yet says polling would pay
  await burst(poller);
  expect(poller.windowMs).toBeGreaterThan(0);
  await Bun.sleep(30);
  const after = turns();
  expect(after).toBeGreaterThan(0);
  await Bun.sleep(30);
  expect(turns()).toBe(after);
  poller.stop();
});

test("after a sleep past the longest window the window shrinks and the loop sleeps at once", async () => {
  const { poller } = counted(5);
  await burst(poller);
  const grown = poller.windowMs;
  await Bun.sleep(30); // the window runs out, then the loop sleeps well past 5 ms
  poller.extend();
  expect(poller.windowMs).toBeLessThan(grown);
  poller.stop();
});

test("no polling while every CPU has other work, with a longest window of 0, or once stopped", async () => {
  const busy = counted(5, () => false);
  await burst(busy.poller);
  const off = counted(0);
  await burst(off.poller);
  const stopped = counted(50);
  await burst(stopped.poller);
  stopped.poller.stop();
  await Bun.sleep(10);
  expect([busy.turns(), off.turns(), stopped.turns()]).toEqual([0, 0, 0]);
});

test("the runnable count is /proc/loadavg's fourth field", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  expect(runnableTasks(text("0.54 0.84 1.00 3/78 13319\n"))).toBe(3);
  expect(runnableTasks(text("12.00 9.50 8.25 17/1203 99\n"))).toBe(17);
});
