import { describe, expect, test } from "bun:test";
import {
  type CallOutcome,
  FunctionPool,
  type InvokeCall,
  type PoolOptions,
} from "../../../src/function/index.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { FakeLink, FakeStarter, flush } from "./pool-fakes.ts";

function call(n: number): InvokeCall {
  return {
    id: n,
    qos: 0,
    topic: "t",
    payload: Buffer.from(String(n)),
    timestamp: 0,
    functionName: "fn",
    functionInvokeId: `c${n}`,
  };
}

function setup(options: Partial<PoolOptions> = {}) {
  const clock = new FakeClock();
  const starter = new FakeStarter();
  const links = new Map<string, FakeLink>();
  const pool = new FunctionPool(
    {
      service: "svc",
      functionName: "fn",
      min: 1,
      max: 3,
      idleTimeMs: 60_000,
      timeoutMs: 1_000,
      hangGraceMs: 500,
      queueMax: 2,
      socketDir: "/run/fn",
      restartDelayMs: 1_000,
      ...options,
    },
    {
      starter,
      clock,
      connect: async (socket) => {
        const link = new FakeLink(socket, clock);
        links.set(socket, link);
        return link;
      },
    },
  );
  const link = (instance: string): FakeLink => {
    const found = links.get(`/run/fn/${instance}.sock`);
    if (found === undefined) throw new Error(`no link for ${instance}`);
    return found;
  };
  return { clock, starter, pool, link };
}

function track(promise: Promise<CallOutcome>) {
  const state: { outcome?: CallOutcome; error?: Error & { code?: string } } = {};
  promise.then(
    (o) => {
      state.outcome = o;
    },
    (e: Error) => {
      state.error = e;
    },
  );
  return state;
}

describe("function pool", () => {
  test("starts `min` warm instances named <service>.<function>.<n> with their socket address", async () => {
    const { pool, starter } = setup({ min: 2 });
    await pool.start();
    expect(starter.started).toEqual([
      { instance: "svc.fn.0", env: { OPENEDGE_SERVICE_INSTANCE_ADDRESS: "unix:///run/fn/svc.fn.0.sock" } },
      { instance: "svc.fn.1", env: { OPENEDGE_SERVICE_INSTANCE_ADDRESS: "unix:///run/fn/svc.fn.1.sock" } },
    ]);
    expect(pool.stats()).toMatchObject({ instances: 2, idle: 2 });
  });

  test("a call goes to an idle instance with the pool's timeout; the instance is reused", async () => {
    const { pool, starter, link } = setup();
    await pool.start();
    const first = pool.invoke(call(1));
    await flush();
    expect(link("svc.fn.0").answerNext()).toMatchObject({ functionInvokeId: "c1", timeout: 1_000 });
    expect(await first).toEqual({ ok: true, payload: Buffer.from("done:c1") });
    const second = pool.invoke(call(2));
    await flush();
    link("svc.fn.0").answerNext();
    await second;
    expect(starter.started.length).toBe(1);
  });

  test("scales up to `max` while all are busy, then queues (bounded), serving the queue in order", async () => {
    const { pool, starter, link } = setup({ min: 0, max: 2, queueMax: 2 });
    const calls = [1, 2, 3, 4].map((n) => track(pool.invoke(call(n))));
    await flush();
    expect(starter.started.map((s) => s.instance)).toEqual(["svc.fn.0", "svc.fn.1"]);
    expect(pool.stats()).toMatchObject({ busy: 2, waiting: 2 });
    // [MAX] a fifth caller finds every instance busy and the queue full
    const refused = track(pool.invoke(call(5)));
    await flush();
    expect(refused.error?.code).toBe("ERR_QUEUE_FULL");
    expect(pool.stats().rejected).toBe(1);
    link("svc.fn.0").answerNext();
    link("svc.fn.1").answerNext();
    await flush();
    expect(link("svc.fn.0").answerNext().functionInvokeId).toBe("c3");
    expect(link("svc.fn.1").answerNext().functionInvokeId).toBe("c4");
    await flush();
    expect(calls.map((c) => c.outcome?.ok)).toEqual([true, true, true, true]);
    expect(starter.started.length).toBe(2);
  });

  test("idle instances above `min` stop after idletime; `min` stay", async () => {
    const { pool, starter, link, clock } = setup({ min: 1, max: 3, idleTimeMs: 60_000 });
    await pool.start();
    const calls = [1, 2, 3].map((n) => pool.invoke(call(n)));
    await flush();
    for (const name of ["svc.fn.0", "svc.fn.1", "svc.fn.2"]) link(name).answerNext();
    await Promise.all(calls);
    expect(pool.stats().idle).toBe(3);
    await clock.advance(59_999);
    expect(starter.stopped).toEqual([]);
    await clock.advance(1);
    await flush();
    expect(starter.stopped.length).toBe(2);
    expect(pool.stats()).toMatchObject({ instances: 1, idle: 1, evicted: 2 });
    await clock.advance(600_000);
    expect(pool.stats().instances).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  test("with evicttime, idle instances are checked on that interval", async () => {
    const { pool, starter, link, clock } = setup({ min: 0, idleTimeMs: 1_000, evictTimeMs: 10_000 });
    const p = pool.invoke(call(1));
    await flush();
    link("svc.fn.0").answerNext();
    await p;
    await clock.advance(9_999);
    expect(starter.stopped).toEqual([]);
    await clock.advance(1);
    expect(starter.stopped).toEqual(["svc.fn.0"]);
  });

  test("an instance that dies during a call: the caller gets ERR_CLOSED, the instance is replaced", async () => {
    const { pool, starter, link } = setup({ min: 1 });
    await pool.start();
    const p = track(pool.invoke(call(1)));
    await flush();
    link("svc.fn.0").crash();
    await flush();
    expect(p.error?.code).toBe("ERR_CLOSED");
    expect(starter.stopped).toEqual(["svc.fn.0"]);
    expect(starter.started.map((s) => s.instance)).toEqual(["svc.fn.0", "svc.fn.1"]);
    expect(pool.stats()).toMatchObject({ instances: 1, idle: 1, replaced: 1 });
  });

  test("an idle instance that exits is replaced; ids are reused only once the old one has stopped", async () => {
    const { pool, starter, link } = setup({ min: 1 });
    await pool.start();
    starter.holdStops = true;
    link("svc.fn.0").crash();
    await flush();
    expect(pool.names()).toEqual(["svc.fn.0", "svc.fn.1"]);
    expect(pool.names("stopping")).toEqual(["svc.fn.0"]);
    starter.releaseStops();
    await flush();
    expect(pool.names()).toEqual(["svc.fn.1"]);
    starter.holdStops = false;
    link("svc.fn.1").crash();
    await flush();
    expect(pool.names()).toEqual(["svc.fn.0"]);
  });

  test("a hung instance (no answer past timeout + grace) fails the call with ERR_TIMEOUT and is replaced", async () => {
    const { pool, starter, clock } = setup({ min: 1 });
    await pool.start();
    const p = track(pool.invoke(call(1)));
    await flush();
    await clock.advance(1_499);
    expect(p.error).toBeUndefined();
    await clock.advance(1);
    await flush();
    expect(p.error?.code).toBe("ERR_TIMEOUT");
    expect(p.error?.message).toContain('instance "svc.fn.0" gave no answer within 1500 ms');
    expect(starter.stopped).toEqual(["svc.fn.0"]);
    expect(pool.stats()).toMatchObject({ instances: 1, idle: 1, replaced: 1 });
  });

  test("a handler's error is an outcome, not an instance failure", async () => {
    const { pool, starter, link } = setup();
    await pool.start();
    const p = pool.invoke(call(1));
    await flush();
    link("svc.fn.0").answerNext({ ok: false, errorType: "ValueError", errorMessage: "boom" });
    expect(await p).toEqual({ ok: false, errorType: "ValueError", errorMessage: "boom" });
    expect(starter.stopped).toEqual([]);
  });

  test("start failures: retried after a delay; waiting callers fail when nothing can serve them", async () => {
    const { pool, starter, clock } = setup({ min: 1 });
    starter.failStarts = "no such service";
    await pool.start();
    expect(pool.stats().instances).toBe(0);
    const p = track(pool.invoke(call(1)));
    await flush();
    expect(p.error).toBeUndefined(); // it waits for the retry
    await clock.advance(1_000);
    await flush();
    expect(p.error?.code).toBe("ERR_ENGINE");
    expect(p.error?.message).toContain("no such service");
    // inspect shows why, until a start succeeds and after
    expect(pool.stats().lastStartError).toMatchObject({ instance: "svc.fn.0", error: "no such service" });
    starter.failStarts = null;
    await clock.advance(1_000);
    await flush();
    expect(pool.stats()).toMatchObject({ instances: 1, idle: 1 });
  });

  test("close fails waiting callers and stops every instance", async () => {
    const { pool, starter } = setup({ min: 1, max: 1, queueMax: 5 });
    await pool.start();
    const busy = track(pool.invoke(call(1)));
    const waiting = track(pool.invoke(call(2)));
    await pool.close();
    await flush();
    expect(waiting.error?.code).toBe("ERR_CLOSED");
    expect(busy.error).toBeUndefined(); // a fake link closed by the pool never answers; a real one rejects
    expect(starter.stopped).toEqual(["svc.fn.0"]);
    await expect(pool.invoke(call(3))).rejects.toMatchObject({ code: "ERR_CLOSED" });
  });

  test("min > max is a config error", () => {
    expect(() => setup({ min: 4, max: 3 })).toThrow(/0 <= min <= max/);
  });
});
