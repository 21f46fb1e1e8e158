import { expect, test } from "bun:test";
import { FakeClock } from "../../../src/lib/clock.ts";

test("FakeClock fires due timers in time order during advance, and no others", async () => {
  const clock = new FakeClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push("b@200"), 200);
  clock.setTimeout(() => fired.push("a@100"), 100);
  const late = clock.setTimeout(() => fired.push("cancelled"), 150);
  late.cancel();
  clock.setTimeout(() => fired.push("c@1000"), 1000);
  await clock.advance(500);
  expect(fired).toEqual(["a@100", "b@200"]);
  expect(clock.now()).toBe(500);
  expect(clock.pendingTimers()).toBe(1);
});

test("FakeClock.sleep resolves only when time passes", async () => {
  const clock = new FakeClock(0);
  let woke = false;
  const sleeping = clock.sleep(1000).then(() => {
    woke = true;
  });
  await clock.advance(999);
  expect(woke).toBe(false);
  await clock.advance(1);
  await sleeping;
  expect(woke).toBe(true);
});
