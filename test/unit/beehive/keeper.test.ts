import { describe, expect, test } from "bun:test";
import {
  type BeehiveModule,
  ChannelContext,
  DEFAULT_BACKOFF,
  ModuleKeeper,
} from "../../../src/beehive/index.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { flush, memoryLog } from "./helpers.ts";

function keeperFor(module: BeehiveModule, clock: FakeClock) {
  const { log, events } = memoryLog();
  const keeper = new ModuleKeeper({
    module,
    context: new ChannelContext({ clock }),
    log,
    clock,
    backoff: { ...DEFAULT_BACKOFF, minMs: 100, maxMs: 1000, factor: 2, resetAfterMs: 10_000 },
  });
  return { keeper, events };
}

describe("module keeper", () => {
  test("restarts a module whose start throws, with exponential backoff on the clock", async () => {
    const clock = new FakeClock(0);
    const startedAt: number[] = [];
    let release: () => void = () => {};
    const module: BeehiveModule = {
      name: "flaky",
      group: "g",
      enabled: true,
      async start() {
        startedAt.push(clock.now());
        if (startedAt.length <= 5) throw new Error(`boom ${startedAt.length}`);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      stop() {
        release();
      },
    };
    const { keeper, events } = keeperFor(module, clock);
    keeper.start();
    await flush();
    expect(startedAt).toEqual([0]);
    await clock.advance(99);
    expect(startedAt).toEqual([0]);
    await clock.advance(1);
    expect(startedAt).toEqual([0, 100]);
    await clock.advance(2400);
    // delays 100, 200, 400, 800, then capped at 1000
    expect(startedAt).toEqual([0, 100, 300, 700, 1500, 2500]);
    const failed = events("module_failed");
    expect(failed.map((r) => r.fields.delayMs)).toEqual([100, 200, 400, 800, 1000]);
    expect(failed[0]?.fields).toMatchObject({ module: "flaky", error: "boom 1", restarts: 1 });
    expect(keeper.restarts).toBe(5);
    expect(keeper.state).toBe("running");
    await keeper.stop();
    expect(keeper.state).toBe("stopped");
    await clock.advance(10_000);
    expect(startedAt.length).toBe(6);
  });

  test("a start that returns unexpectedly is restarted and logged as exited", async () => {
    const clock = new FakeClock(0);
    let starts = 0;
    const module: BeehiveModule = {
      name: "quitter",
      group: "",
      enabled: true,
      async start() {
        starts++;
      },
      stop() {},
    };
    const { keeper, events } = keeperFor(module, clock);
    keeper.start();
    await flush();
    await clock.advance(100);
    expect(starts).toBe(2);
    expect(events("module_exited")[0]?.fields).toMatchObject({ module: "quitter", error: "start returned" });
    await keeper.stop();
  });

  test("a run longer than resetAfterMs resets the backoff", async () => {
    const clock = new FakeClock(0);
    const startedAt: number[] = [];
    const module: BeehiveModule = {
      name: "long",
      group: "",
      enabled: true,
      async start() {
        startedAt.push(clock.now());
        const n = startedAt.length;
        if (n === 3) await clock.sleep(20_000); // a long healthy run, then a failure
        throw new Error(`fail ${n}`);
      },
      stop() {},
    };
    const { keeper, events } = keeperFor(module, clock);
    keeper.start();
    await flush();
    await clock.advance(100 + 200 + 20_000 + 100);
    expect(startedAt).toEqual([0, 100, 300, 20_400]);
    expect(events("module_failed").map((r) => r.fields.delayMs)).toEqual([100, 200, 100, 200]);
    await keeper.stop();
  });

  test("stop during backoff prevents the restart and does not call module.stop", async () => {
    const clock = new FakeClock(0);
    let starts = 0;
    let stops = 0;
    const module: BeehiveModule = {
      name: "down",
      group: "",
      enabled: true,
      async start() {
        starts++;
        throw new Error("no");
      },
      stop() {
        stops++;
      },
    };
    const { keeper } = keeperFor(module, clock);
    keeper.start();
    await flush();
    expect(keeper.state).toBe("backoff");
    await keeper.stop();
    await clock.advance(5000);
    expect(starts).toBe(1);
    expect(stops).toBe(0);
    expect(keeper.state).toBe("stopped");
  });
});
