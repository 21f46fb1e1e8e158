import { describe, expect, test } from "bun:test";
import {
  type BeehiveModule,
  type BusContext,
  ChannelContext,
  ModuleRegistry,
} from "../../../src/beehive/index.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";
import { flush, memoryLog, msg } from "./helpers.ts";

interface Script {
  journal: string[];
}

/** A module that runs until stopped; `stubborn` ones ignore stop, `receiver` ones block in receive. */
function module(
  name: string,
  script: Script,
  opts: { enabled?: boolean; stubborn?: boolean; receiver?: boolean } = {},
) {
  let release: () => void = () => {};
  const m: BeehiveModule = {
    name,
    group: "test",
    enabled: opts.enabled ?? true,
    async start(ctx: BusContext) {
      script.journal.push(`start ${name}`);
      if (opts.receiver === true) {
        for (;;) {
          try {
            await ctx.receive(name);
          } catch {
            script.journal.push(`released ${name}`);
            return;
          }
        }
      }
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    },
    stop() {
      script.journal.push(`stop ${name}`);
      if (opts.stubborn !== true) release();
    },
  };
  return m;
}

function setup() {
  const clock = new FakeClock(0);
  const { log, events } = memoryLog();
  const context = new ChannelContext({ clock });
  const registry = new ModuleRegistry({ context, log, clock });
  return { clock, events, context, registry, script: { journal: [] as string[] } };
}

describe("module registry", () => {
  test("starts enabled modules in registration order; disabled ones are recorded and logged", async () => {
    const { registry, events, script, context } = setup();
    registry.register(module("hub", script));
    registry.register(module("bridge", script, { enabled: false }));
    registry.register(module("agent", script));
    expect(events("module_disabled")[0]?.fields).toMatchObject({ module: "bridge" });
    registry.startAll();
    await flush();
    expect(script.journal).toEqual(["start hub", "start agent"]);
    expect(context.modules()).toEqual(["hub", "agent"]);
    expect(context.members("test")).toEqual(["hub", "agent"]);
    expect(registry.list().map((m) => [m.name, m.state])).toEqual([
      ["hub", "running"],
      ["bridge", "disabled"],
      ["agent", "running"],
    ]);
  });

  test("every queue exists before the first module starts", async () => {
    const { registry, context, script } = setup();
    const first: BeehiveModule = {
      name: "first",
      group: "",
      enabled: true,
      async start(ctx) {
        await ctx.send("last", msg("first", "last", "hello"));
        await new Promise(() => {});
      },
      stop() {},
    };
    registry.register(first);
    registry.register(module("last", script));
    registry.startAll();
    await flush();
    expect((await context.receive("last")).content).toBe("hello");
  });

  test("refuses a second module with the same name", () => {
    const { registry, script } = setup();
    registry.register(module("hub", script));
    let error: unknown;
    try {
      registry.register(module("hub", script));
    } catch (e) {
      error = e;
    }
    expect(isOpenEdgeError(error, "ERR_CONFLICT")).toBe(true);
  });

  test("stopAll stops in reverse order and releases modules blocked in receive", async () => {
    const { registry, script, clock } = setup();
    registry.register(module("a", script));
    registry.register(module("b", script, { receiver: true }));
    registry.register(module("c", script));
    registry.startAll();
    await flush();
    const report = registry.stopAll(1000);
    await clock.advance(0);
    expect(await report).toEqual({ stopped: ["c", "b", "a"], missed: [] });
    expect(script.journal.slice(3)).toEqual(["stop c", "stop b", "released b", "stop a"]);
    expect(registry.list().map((m) => m.state)).toEqual(["idle", "idle", "idle"]);
  });

  test("stopAll reports the modules that missed the deadline and still stops the rest", async () => {
    const { registry, script, clock, events } = setup();
    registry.register(module("a", script));
    registry.register(module("stuck", script, { stubborn: true }));
    registry.register(module("c", script));
    registry.startAll();
    await flush();
    const report = registry.stopAll(500);
    await clock.advance(499);
    expect(script.journal).toContain("stop stuck");
    expect(script.journal).not.toContain("stop a");
    await clock.advance(1);
    expect(await report).toEqual({ stopped: ["c", "a"], missed: ["stuck"] });
    expect(events("module_stop_deadline_missed")[0]?.fields).toMatchObject({
      module: "stuck",
      deadlineMs: 500,
    });
  });
});
