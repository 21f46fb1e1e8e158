import { describe, expect, test } from "bun:test";
import { ChannelContext, responseTo } from "../../../src/beehive/index.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";
import { flush, memoryLog, msg, outcome } from "./helpers.ts";

function setup(capacity = 4) {
  const clock = new FakeClock();
  const { log, events } = memoryLog();
  const ctx = new ChannelContext({ clock, log, capacity });
  ctx.addModule("a", "g");
  ctx.addModule("b", "g");
  ctx.addModule("c");
  return { ctx, clock, events };
}

describe("channel context: send / receive", () => {
  test("delivers in FIFO order and receive waits for the next message", async () => {
    const { ctx } = setup();
    const m1 = msg("a", "b", 1);
    const m2 = msg("a", "b", 2);
    await ctx.send("b", m1);
    await ctx.send("b", m2);
    expect(await ctx.receive("b")).toBe(m1);
    expect(await ctx.receive("b")).toBe(m2);
    let got: unknown = null;
    const waiting = ctx.receive("b").then((m) => {
      got = m.content;
    });
    await flush();
    expect(got).toBeNull();
    await ctx.send("b", msg("a", "b", 3));
    await waiting;
    expect(got).toBe(3);
  });

  test("send to an unknown module rejects with ERR_UNKNOWN_MODULE", async () => {
    const { ctx } = setup();
    const r = await outcome(ctx.send("nobody", msg("a", "nobody")));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(isOpenEdgeError(r.error, "ERR_UNKNOWN_MODULE")).toBe(true);
    expect(isOpenEdgeError(await ctx.receive("nobody").catch((e) => e), "ERR_UNKNOWN_MODULE")).toBe(true);
  });

  test("a full queue blocks the sender until there is room (backpressure, no drop, order kept)", async () => {
    const { ctx } = setup(2);
    await ctx.send("b", msg("a", "b", 1));
    await ctx.send("b", msg("a", "b", 2));
    let third = false;
    const blocked = ctx.send("b", msg("a", "b", 3)).then(() => {
      third = true;
    });
    const fourth = ctx.send("b", msg("a", "b", 4));
    await flush();
    expect(third).toBe(false);
    expect(ctx.stats().modules.find((m) => m.name === "b")?.blockedSenders).toBe(2);
    expect((await ctx.receive("b")).content).toBe(1);
    await blocked;
    expect(third).toBe(true);
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await ctx.receive("b")).content);
    await fourth;
    expect(order).toEqual([2, 3, 4]);
  });

  test("failFast rejects with ERR_QUEUE_FULL instead of waiting", async () => {
    const { ctx } = setup(1);
    await ctx.send("b", msg("a", "b", 1), { failFast: true });
    const r = await outcome(ctx.send("b", msg("a", "b", 2), { failFast: true }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(isOpenEdgeError(r.error, "ERR_QUEUE_FULL")).toBe(true);
      expect((r.error as { details: Record<string, unknown> }).details).toMatchObject({
        module: "b",
        capacity: 1,
      });
    }
    expect(ctx.stats().modules.find((m) => m.name === "b")?.depth).toBe(1);
  });
});

describe("channel context: sync", () => {
  test("sendSync resolves with the response whose parentId is the request id", async () => {
    const { ctx } = setup();
    const req = msg("a", "b", "ping");
    const pending = ctx.sendSync("b", req, 1000);
    const got = await ctx.receive("b");
    expect(got.header.sync).toBe(true);
    // an unrelated response does not satisfy the waiter
    const other = msg("x", "b");
    other.header.sync = true;
    await ctx.sendResp(responseTo(other, "noise"));
    await ctx.sendResp(responseTo(got, "pong"));
    const resp = await pending;
    expect(resp.content).toBe("pong");
    expect(resp.header.parentId).toBe(req.header.id);
    expect(ctx.pendingSync()).toBe(0);
  });

  test("a sendSync that names no timeout gets the context's (openedge.yml bus.timeout)", async () => {
    const clock = new FakeClock();
    const ctx = new ChannelContext({ clock, syncTimeoutMs: 200 });
    ctx.addModule("b");
    const r = outcome(ctx.sendSync("b", msg("a", "b", "ping")));
    await clock.advance(199);
    expect(ctx.pendingSync()).toBe(1);
    await clock.advance(1);
    const res = await r;
    expect(res.ok === false && isOpenEdgeError(res.error, "ERR_TIMEOUT")).toBe(true);
  });

  test("sendSync times out with ERR_TIMEOUT naming the message id and route", async () => {
    const { ctx, clock } = setup();
    const req = msg("a", "b", "ping");
    const r = outcome(ctx.sendSync("b", req, 500));
    await clock.advance(499);
    expect(ctx.pendingSync()).toBe(1);
    await clock.advance(1);
    const res = await r;
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(isOpenEdgeError(res.error, "ERR_TIMEOUT")).toBe(true);
      const e = res.error as Error & { details: Record<string, unknown> };
      expect(e.message).toContain(req.header.id);
      expect(e.message).toContain('"b"');
      expect(e.details).toMatchObject({ id: req.header.id, destination: "b" });
    }
    expect(ctx.pendingSync()).toBe(0);
  });

  test("a late response is dropped and counted, never thrown nor queued", async () => {
    const { ctx, clock } = setup();
    const req = msg("a", "b");
    const r = outcome(ctx.sendSync("b", req, 10));
    await clock.advance(10);
    expect((await r).ok).toBe(false);
    const got = await ctx.receive("b");
    await ctx.sendResp(responseTo(got, "too late"));
    const stats = ctx.stats();
    expect(stats.lateResponses).toBe(1);
    expect(stats.modules.find((m) => m.name === "a")?.dropped).toBe(1);
    expect(stats.modules.find((m) => m.name === "a")?.depth).toBe(0);
  });

  test("a response with no waiter (not sync) goes to its destination's queue", async () => {
    const { ctx } = setup();
    const req = msg("a", "b");
    const resp = responseTo(req, "async answer");
    await ctx.sendResp(resp);
    expect(await ctx.receive("a")).toBe(resp);
  });

  test("two pending sync requests with the same id are refused", async () => {
    const { ctx, clock } = setup();
    const req = msg("a", "b");
    const first = outcome(ctx.sendSync("b", req, 10));
    const second = await outcome(ctx.sendSync("b", req, 10));
    expect(second.ok).toBe(false);
    if (!second.ok) expect(isOpenEdgeError(second.error, "ERR_CONFLICT")).toBe(true);
    await clock.advance(10);
    await first;
    expect(ctx.pendingSync()).toBe(0);
  });

  test("a sync request timing out while blocked on a full queue is never enqueued later", async () => {
    const { ctx, clock } = setup(1);
    await ctx.send("b", msg("a", "b", "filler"));
    const req = msg("a", "b", "sync");
    const r = outcome(ctx.sendSync("b", req, 50));
    await clock.advance(50);
    expect((await r).ok).toBe(false);
    expect((await ctx.receive("b")).content).toBe("filler");
    await ctx.send("b", msg("a", "b", "after"));
    expect((await ctx.receive("b")).content).toBe("after");
    expect(ctx.stats().modules.find((m) => m.name === "b")?.depth).toBe(0);
  });
});

describe("channel context: groups", () => {
  test("sendToGroup reaches every member", async () => {
    const { ctx } = setup();
    const m = msg("c", "", "hello");
    await ctx.sendToGroup("g", m);
    const atA = await ctx.receive("a");
    const atB = await ctx.receive("b");
    expect(atA.header).toBe(m.header);
    expect(atB.header).toBe(m.header);
    expect([atA.route.destination, atB.route.destination]).toEqual(["a", "b"]);
    expect(atA.route.group).toBe(m.route.group);
    expect(ctx.stats().modules.find((s) => s.name === "c")?.depth).toBe(0);
    await ctx.sendToGroup("empty", m);
  });

  test("sendToGroupSync resolves with one response per member, in member order", async () => {
    const { ctx } = setup();
    const req = msg("c", "", "q");
    const pending = ctx.sendToGroupSync("g", req, 1000);
    const atB = await ctx.receive("b");
    await ctx.sendResp(responseTo(atB, "from b"));
    const atA = await ctx.receive("a");
    await ctx.sendResp(responseTo(atA, "from a"));
    const answers = await pending;
    expect(answers.map((a) => a.content)).toEqual(["from a", "from b"]);
    expect(ctx.pendingSync()).toBe(0);
    expect(await ctx.sendToGroupSync("empty", msg("c", ""), 10)).toEqual([]);
  });

  test("sendToGroupSync with a silent member rejects naming it", async () => {
    const { ctx, clock } = setup();
    const req = msg("c", "", "q");
    const r = outcome(ctx.sendToGroupSync("g", req, 200));
    const atA = await ctx.receive("a");
    await ctx.sendResp(responseTo(atA, "from a"));
    await ctx.sendResp(responseTo(atA, "from a again"));
    await clock.advance(200);
    const res = await r;
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(isOpenEdgeError(res.error, "ERR_TIMEOUT")).toBe(true);
      const e = res.error as Error & { details: Record<string, unknown> };
      expect(e.details.missing).toEqual(["b"]);
      expect(e.message).toContain('"b"');
      expect(e.message).not.toContain('"a",');
    }
    // b answering now is late: dropped and counted
    await ctx.sendResp(responseTo(await ctx.receive("b"), "late"));
    expect(ctx.stats().lateResponses).toBe(1);
    expect(ctx.pendingSync()).toBe(0);
  });

  test("addModuleGroup joins more groups; unknown module throws", () => {
    const { ctx } = setup();
    ctx.addModuleGroup("c", "g");
    ctx.addModuleGroup("c", "g");
    expect(ctx.members("g")).toEqual(["a", "b", "c"]);
    expect(() => ctx.addModuleGroup("zz", "g")).toThrow();
  });
});

describe("channel context: cleanup and close", () => {
  test("cleanup releases blocked senders and pending receivers with ERR_CLOSED", async () => {
    const { ctx, events } = setup(1);
    await ctx.send("b", msg("a", "b", 1));
    const blocked = [outcome(ctx.send("b", msg("a", "b", 2))), outcome(ctx.send("b", msg("a", "b", 3)))];
    const receiver = outcome(ctx.receive("c"));
    ctx.cleanup("b");
    ctx.cleanup("c");
    for (const r of await Promise.all(blocked)) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(isOpenEdgeError(r.error, "ERR_CLOSED")).toBe(true);
    }
    const rr = await receiver;
    expect(rr.ok).toBe(false);
    if (!rr.ok) expect(isOpenEdgeError(rr.error, "ERR_CLOSED")).toBe(true);
    // later sends see an unknown module, never a closed queue
    expect(isOpenEdgeError(await ctx.send("b", msg("a", "b")).catch((e) => e), "ERR_UNKNOWN_MODULE")).toBe(
      true,
    );
    expect(ctx.members("g")).toEqual(["a"]);
    expect(events("bus_module_cleaned_up")[0]?.fields).toMatchObject({ module: "b", discarded: 1 });
    // the name can be used again, with a fresh queue
    ctx.addModule("b");
    await ctx.send("b", msg("a", "b", "fresh"));
    expect((await ctx.receive("b")).content).toBe("fresh");
  });

  test("cleanup fails pending sync requests addressed to the module", async () => {
    const { ctx } = setup();
    const r = outcome(ctx.sendSync("b", msg("a", "b"), 10_000));
    ctx.cleanup("b");
    const res = await r;
    expect(res.ok).toBe(false);
    if (!res.ok) expect(isOpenEdgeError(res.error, "ERR_CLOSED")).toBe(true);
    expect(ctx.pendingSync()).toBe(0);
  });

  test("close rejects everyone and later calls", async () => {
    const { ctx } = setup(1);
    const rec = outcome(ctx.receive("a"));
    const sync = outcome(ctx.sendSync("b", msg("a", "b"), 10_000));
    await ctx.close();
    expect((await rec).ok).toBe(false);
    expect((await sync).ok).toBe(false);
    expect(isOpenEdgeError(await ctx.send("a", msg("b", "a")).catch((e) => e), "ERR_CLOSED")).toBe(true);
    expect(() => ctx.addModule("x")).toThrow();
    expect(ctx.pendingSync()).toBe(0);
  });

  test("stats is plain JSON with per-module counters", async () => {
    const { ctx } = setup();
    await ctx.send("a", msg("b", "a"));
    await ctx.send("a", msg("b", "a"));
    await ctx.receive("a");
    const stats = ctx.stats();
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
    expect(stats.kind).toBe("channel");
    expect(stats.modules.find((m) => m.name === "a")).toEqual({
      name: "a",
      groups: ["g"],
      remote: false,
      connected: true,
      depth: 1,
      capacity: 4,
      inflight: 0,
      sent: 2,
      received: 1,
      dropped: 0,
      blockedSenders: 0,
      waitingReceivers: 0,
    });
  });
});

describe("channel context: sync timers", () => {
  test("requests with different timeouts expire at their own deadlines, whatever the order", async () => {
    const { ctx, clock } = setup();
    const long = outcome(ctx.sendSync("b", msg("a", "b", "long"), 100));
    await clock.advance(10);
    const short = outcome(ctx.sendSync("b", msg("a", "b", "short"), 50));
    const settled: string[] = [];
    void long.then(() => settled.push("long"));
    void short.then(() => settled.push("short"));
    await clock.advance(49);
    expect(settled).toEqual([]);
    await clock.advance(1);
    expect(settled).toEqual(["short"]);
    await clock.advance(39);
    expect(settled).toEqual(["short"]);
    await clock.advance(1);
    expect(settled).toEqual(["short", "long"]);
    expect(ctx.pendingSync()).toBe(0);
  });

  test("one timer serves all pending requests, and close drops it", async () => {
    const { ctx, clock } = setup(64);
    const calls = Array.from({ length: 50 }, (_, i) =>
      outcome(ctx.sendSync("b", msg("a", "b", i), 1000 + i)),
    );
    expect(clock.pendingTimers()).toBe(1);
    for (let i = 0; i < 50; i++) {
      const req = await ctx.receive("b");
      if (i % 2 === 0) await ctx.sendResp(responseTo(req, i));
    }
    await clock.advance(2000);
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.ok).length).toBe(25);
    expect(ctx.pendingSync()).toBe(0);
    void ctx.sendSync("b", msg("a", "b"), 30_000).catch(() => {});
    expect(clock.pendingTimers()).toBe(1);
    await ctx.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  test("an idle context drops its timer after a turn (it must not keep the process alive)", async () => {
    const { ctx, clock } = setup();
    const pending = ctx.sendSync("b", msg("a", "b"), 30_000);
    await ctx.sendResp(responseTo(await ctx.receive("b"), "ok"));
    await pending;
    expect(clock.pendingTimers()).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(clock.pendingTimers()).toBe(0);
    // and it is armed again by the next request
    const next = outcome(ctx.sendSync("b", msg("a", "b"), 100));
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(100);
    expect((await next).ok).toBe(false);
  });
});
