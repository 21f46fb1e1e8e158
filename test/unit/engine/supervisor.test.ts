import { describe, expect, test } from "bun:test";
import {
  type InstanceRecord,
  type RestartSpec,
  type StatusEvent,
  Supervisor,
  type SupervisorDeps,
} from "../../../src/engine/index.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";
import { MemorySink, SinkLogger } from "../../../src/log/index.ts";
import { FakeEngine } from "../../fixtures/engine/fake-engine.ts";
import { makeSpec } from "../../fixtures/engine/spec.ts";

function setup(over: Partial<SupervisorDeps> = {}) {
  const clock = new FakeClock(0);
  const engine = new FakeEngine(clock);
  const sink = new MemorySink();
  const saved: InstanceRecord[][] = [];
  const sup = new Supervisor({
    engine,
    clock,
    log: new SinkLogger([sink], "debug"),
    random: () => 0.5,
    stableMs: 10_000,
    state: { save: (r) => saved.push([...r]) },
    ...over,
  });
  const events: StatusEvent[] = [];
  sup.onStatus((e) => events.push(e));
  return { clock, engine, sup, sink, saved, events };
}

const env = (instance: string) => ({ OPENEDGE_SERVICE_INSTANCE_NAME: instance });

function restart(policy: RestartSpec["policy"], retryMax = 0): RestartSpec {
  return { policy, retryMax, backoff: { minMs: 1000, maxMs: 8000, factor: 2, jitter: 0 } };
}

describe("supervisor replicas", () => {
  test("names replicas <service>, <service>.i1, <service>.i2 and passes each its env", async () => {
    const { sup, engine } = setup();
    await sup.startService(makeSpec({ name: "hub", replica: 3 }), env);
    expect(engine.started.map((i) => i.instance)).toEqual(["hub", "hub.i1", "hub.i2"]);
    expect(engine.latest("hub.i2").env).toEqual({ OPENEDGE_SERVICE_INSTANCE_NAME: "hub.i2" });
    expect(sup.instances("hub")?.map((i) => i.status)).toEqual(["running", "running", "running"]);
  });

  test("a second start of the same service is a conflict", async () => {
    const { sup } = setup();
    await sup.startService(makeSpec(), env);
    const err = await sup.startService(makeSpec(), env).catch((e: unknown) => e);
    expect(isOpenEdgeError(err, "ERR_CONFLICT")).toBe(true);
  });

  test("prepare errors reach the caller and nothing is started", async () => {
    const { sup, engine } = setup();
    engine.prepareError = new Error('package "x" not found');
    await expect(sup.startService(makeSpec(), env)).rejects.toThrow('package "x" not found');
    expect(engine.attempts).toHaveLength(0);
    expect(sup.serviceNames()).toEqual([]);
  });
});

describe("restart policy", () => {
  test("always restarts after a clean exit, after exactly the backoff", async () => {
    const { sup, engine, clock } = setup();
    await sup.startService(makeSpec({ restart: restart("always") }), env);
    engine.latest("svc").exit({ code: 0 });
    await clock.advance(0);
    expect(sup.instances("svc")?.[0]?.status).toBe("restarting");
    await clock.advance(999);
    expect(engine.attempts).toHaveLength(1);
    await clock.advance(1);
    expect(engine.startsOf("svc")).toEqual([0, 1000]);
    expect(sup.instances("svc")?.[0]).toMatchObject({ status: "running", restarts: 1 });
  });

  test("on-failure does not restart a clean exit", async () => {
    const { sup, engine, clock } = setup();
    await sup.startService(makeSpec({ restart: restart("on-failure") }), env);
    engine.latest("svc").exit({ code: 0 });
    await clock.advance(0);
    await clock.advance(60_000);
    expect(engine.attempts).toHaveLength(1);
    expect(sup.instances("svc")?.[0]?.status).toBe("exited");
  });

  test("on-failure restarts a non-zero exit and a signal", async () => {
    const { sup, engine, clock } = setup();
    await sup.startService(makeSpec({ restart: restart("on-failure") }), env);
    engine.latest("svc").exit({ code: 3 });
    await clock.advance(0);
    await clock.advance(1000);
    engine.latest("svc").exit({ code: null, signal: "SIGKILL" });
    await clock.advance(0);
    await clock.advance(2000);
    expect(engine.startsOf("svc")).toEqual([0, 1000, 3000]);
  });

  test("no never restarts, even a crash", async () => {
    const { sup, engine, clock, events } = setup();
    await sup.startService(makeSpec({ restart: restart("no") }), env);
    engine.latest("svc").exit({ code: 1 });
    await clock.advance(0);
    await clock.advance(60_000);
    expect(engine.attempts).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ status: "exited", exit: { code: 1 } });
  });

  test("retryMax 2 means at most 3 starts, then failed", async () => {
    const { sup, engine, clock, events, sink } = setup();
    await sup.startService(makeSpec({ restart: restart("always", 2) }), env);
    for (let i = 0; i < 3; i++) {
      engine.latest("svc").exit({ code: 1 });
      await clock.advance(0);
      await clock.advance(10_000 - 1);
    }
    await clock.advance(60_000);
    expect(engine.attempts).toHaveLength(3);
    expect(sup.instances("svc")?.[0]?.status).toBe("failed");
    expect(events.at(-1)?.status).toBe("failed");
    expect(sink.find("instance_gave_up")?.fields).toMatchObject({ service: "svc", retry_max: 2 });
  });

  test("a start that throws counts as a failure and is retried with backoff", async () => {
    const { sup, engine, clock } = setup();
    engine.failStarts(2);
    await sup.startService(makeSpec({ restart: restart("on-failure") }), env);
    expect(sup.instances("svc")?.[0]?.status).toBe("restarting");
    await clock.advance(1000 + 2000);
    expect(engine.startsOf("svc")).toEqual([0, 1000, 3000]);
    expect(sup.instances("svc")?.[0]?.status).toBe("running");
  });

  test("policy no with a start error settles as failed", async () => {
    const { sup, engine } = setup();
    engine.failStarts(1);
    await sup.startService(makeSpec({ restart: restart("no") }), env);
    expect(sup.instances("svc")?.[0]?.status).toBe("failed");
    const [svc] = await sup.inspect();
    expect(svc?.instances[0]?.exit?.error).toContain("cannot start");
  });
});

describe("backoff", () => {
  async function crashDelays(
    sup: Supervisor,
    engine: FakeEngine,
    clock: FakeClock,
    n: number,
  ): Promise<number[]> {
    const delays: number[] = [];
    for (let i = 0; i < n; i++) {
      const exitAt = clock.now();
      engine.latest("svc").exit({ code: 1 });
      await clock.advance(0);
      await clock.advance(9000);
      delays.push((engine.startsOf("svc").at(-1) ?? 0) - exitAt);
    }
    expect(sup.instances("svc")?.[0]?.status).toBe("running");
    return delays;
  }

  test("grows by factor from min and is capped at max", async () => {
    const { sup, engine, clock } = setup();
    await sup.startService(makeSpec({ restart: restart("always") }), env);
    expect(await crashDelays(sup, engine, clock, 6)).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  test("jitter stays within ±jitter of the base delay, and under max", async () => {
    const spec = makeSpec({
      restart: {
        policy: "always",
        retryMax: 0,
        backoff: { minMs: 1000, maxMs: 8000, factor: 2, jitter: 0.2 },
      },
    });
    const low = setup({ random: () => 0 });
    await low.sup.startService(spec, env);
    expect(await crashDelays(low.sup, low.engine, low.clock, 5)).toEqual([800, 1600, 3200, 6400, 6400]);
    const high = setup({ random: () => 0.999999 });
    await high.sup.startService(spec, env);
    expect(await crashDelays(high.sup, high.engine, high.clock, 5)).toEqual([1200, 2400, 4800, 8000, 8000]);
  });

  test("the retry budget and backoff reset after a stable run", async () => {
    const { sup, engine, clock } = setup();
    await sup.startService(makeSpec({ restart: restart("always", 2) }), env);
    engine.latest("svc").exit({ code: 1 });
    await clock.advance(0);
    await clock.advance(1000);
    engine.latest("svc").exit({ code: 1 });
    await clock.advance(0);
    await clock.advance(2000);
    // Third run is stable (>= stableMs), so its crash starts over: 1 s backoff, full budget.
    await clock.advance(10_000);
    engine.latest("svc").exit({ code: 1 });
    await clock.advance(0);
    await clock.advance(1000);
    engine.latest("svc").exit({ code: 1 });
    await clock.advance(0);
    await clock.advance(2000);
    expect(sup.instances("svc")?.[0]).toMatchObject({ status: "running", restarts: 4 });
    const starts = engine.startsOf("svc");
    expect(starts.slice(1).map((t, i) => t - (starts[i] ?? 0))).toEqual([1000, 2000, 11_000, 2000]);
  });
});

describe("stopping", () => {
  test("stopService stops every instance in parallel with the spec's grace", async () => {
    const { sup, engine } = setup();
    await sup.startService(makeSpec({ replica: 2, graceMs: 1234 }), env);
    await sup.stopService("svc");
    expect(engine.started.map((i) => [i.alive, i.stoppedWithGrace])).toEqual([
      [false, 1234],
      [false, 1234],
    ]);
    expect(sup.serviceNames()).toEqual([]);
  });

  test("a stop during backoff cancels the pending restart", async () => {
    const { sup, engine, clock } = setup();
    await sup.startService(makeSpec(), env);
    engine.latest("svc").exit({ code: 1 });
    await clock.advance(0);
    await clock.advance(10);
    await sup.stopService("svc");
    await clock.advance(60_000);
    expect(engine.attempts).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  test("an instance that stops is not restarted and its last exit is kept", async () => {
    const { sup, engine, clock, events } = setup();
    await sup.startService(makeSpec({ replica: 2 }), env);
    await sup.stopInstance("svc", "svc.i1", 10);
    await clock.advance(60_000);
    expect(engine.attempts).toHaveLength(2);
    expect(sup.instances("svc")?.map((i) => i.name)).toEqual(["svc"]);
    expect(events.filter((e) => e.instance === "svc.i1").map((e) => e.status)).toEqual([
      "starting",
      "running",
      "stopping",
      "stopped",
    ]);
  });

  test("stopAll stops services last-started first", async () => {
    const { sup, events } = setup();
    await sup.startService(makeSpec({ name: "a" }), env);
    await sup.startService(makeSpec({ name: "b" }), env);
    await sup.stopAll();
    expect(events.filter((e) => e.status === "stopped").map((e) => e.service)).toEqual(["b", "a"]);
  });
});

describe("dynamic instances", () => {
  test("start with extra env that wins; restarting the same name replaces it", async () => {
    const { sup, engine } = setup();
    await sup.startService(makeSpec({ name: "fn", replica: 0 }), env);
    await sup.startInstance("fn", "fn-1", { OPENEDGE_SERVICE_INSTANCE_ADDRESS: "unix:///a", X: "1" });
    const first = engine.latest("fn-1");
    expect(first.env).toEqual({
      OPENEDGE_SERVICE_INSTANCE_NAME: "fn-1",
      OPENEDGE_SERVICE_INSTANCE_ADDRESS: "unix:///a",
      X: "1",
    });
    await sup.startInstance("fn", "fn-1", { X: "2" });
    expect(first.alive).toBe(false);
    expect(engine.latest("fn-1").env["X"]).toBe("2");
    expect(sup.instances("fn")?.map((i) => [i.name, i.status])).toEqual([["fn-1", "running"]]);
  });

  test("unknown service or instance is ERR_NOT_FOUND", async () => {
    const { sup } = setup();
    await expect(sup.startInstance("nope", "x", {})).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    await sup.startService(makeSpec(), env);
    await expect(sup.stopInstance("svc", "x")).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
  });
});

describe("inspect, state and health", () => {
  test("inspect gives plain JSON per instance", async () => {
    const { sup, engine, clock } = setup();
    await sup.startService(makeSpec({ replica: 1 }), env);
    engine.latest("svc").exit({ code: 2 });
    await clock.advance(0);
    await clock.advance(1000);
    const out = await sup.inspect();
    expect(JSON.parse(JSON.stringify(out))).toEqual([
      {
        name: "svc",
        image: "svc-image",
        replica: 1,
        instances: [
          {
            name: "svc",
            status: "running",
            start_time: new Date(1000).toISOString(),
            restarts: 1,
            pid: 1001,
            exit: { code: 2, signal: null, time: new Date(0).toISOString() },
            limits: { enforced: true, via: "none", applied: {}, skipped: [] },
            cpu_percent: 1.5,
            mem_rss_bytes: 1024,
            processes: 1,
          },
        ],
      },
    ]);
  });

  test("the state recorder follows the running instances", async () => {
    const { sup, engine, clock, saved } = setup();
    await sup.startService(makeSpec({ replica: 2 }), env);
    expect(saved.at(-1)?.map((r) => r.instance)).toEqual(["svc", "svc.i1"]);
    engine.latest("svc").exit({ code: 1 });
    await clock.advance(0);
    expect(saved.at(-1)?.map((r) => r.instance)).toEqual(["svc.i1"]);
    await sup.stopService("svc");
    expect(saved.at(-1)).toEqual([]);
  });

  test("waitHealthy resolves once every instance ran for stableMs", async () => {
    const { sup, clock } = setup();
    await sup.startService(makeSpec({ replica: 2 }), env);
    let done = false;
    const p = sup.waitHealthy("svc", { timeoutMs: 10_000, stableMs: 3000 }).then(() => {
      done = true;
    });
    await clock.advance(2999);
    expect(done).toBe(false);
    await clock.advance(1);
    await p;
    expect(done).toBe(true);
  });

  test("waitHealthy rejects as soon as an instance exits", async () => {
    const { sup, engine, clock } = setup();
    await sup.startService(makeSpec(), env);
    const p = sup.waitHealthy("svc", { timeoutMs: 10_000, stableMs: 3000 });
    await clock.advance(500);
    engine.latest("svc").exit({ code: 7 });
    await expect(p).rejects.toThrow('service "svc" instance "svc" exited with code 7');
  });

  test("waitHealthy rejects when an instance is already waiting for a restart", async () => {
    const { sup, engine } = setup();
    engine.failStarts(1);
    await sup.startService(makeSpec(), env);
    const p = sup.waitHealthy("svc", { timeoutMs: 5000, stableMs: 1000 });
    await expect(p).rejects.toMatchObject({ code: "ERR_ENGINE" });
  });

  test("waitHealthy times out with ERR_TIMEOUT", async () => {
    const { sup, clock } = setup();
    await sup.startService(makeSpec(), env);
    const p = sup.waitHealthy("svc", { timeoutMs: 2000, stableMs: 5000 }).catch((e: unknown) => e);
    await clock.advance(2000);
    expect(await p).toMatchObject({ code: "ERR_TIMEOUT" });
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe("dynamic instances under concurrency", () => {
  test("concurrent starts of one name run one at a time and leave exactly one instance alive", async () => {
    const { sup, engine } = setup();
    await sup.startService(makeSpec({ name: "fn", replica: 0 }), env);
    await Promise.all(Array.from({ length: 6 }, (_, i) => sup.startInstance("fn", "fn.1", { N: String(i) })));
    const started = engine.started.filter((i) => i.instance === "fn.1");
    expect(started).toHaveLength(6);
    expect(started.filter((i) => i.alive)).toHaveLength(1);
    expect(started.at(-1)?.alive).toBe(true);
    expect(sup.instances("fn")?.map((i) => i.name)).toEqual(["fn.1"]);
  });

  test("a start racing the service's stop does not leave an orphan", async () => {
    const { sup, engine } = setup();
    await sup.startService(makeSpec({ name: "fn", replica: 0 }), env);
    await sup.startInstance("fn", "fn.1", {});
    const restart = sup.startInstance("fn", "fn.1", {}).catch((e: unknown) => e);
    await sup.stopService("fn");
    const result = await restart;
    expect(isOpenEdgeError(result, "ERR_NOT_FOUND")).toBe(true);
    expect(engine.started.every((i) => !i.alive)).toBe(true);
  });
});
