import { describe, expect, test } from "bun:test";
import { ChannelContext, type Message, responseTo } from "../../../src/beehive/index.ts";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";
import { BatchClock, flush, msg, outcome } from "./helpers.ts";

describe("channel context under concurrency", () => {
  test("many senders into a small queue: every message received exactly once, per-sender order kept", async () => {
    const ctx = new ChannelContext({ capacity: 8 });
    ctx.addModule("sink");
    const senders = 100;
    const perSender = 100;
    const seen = new Map<number, number[]>();
    let total = 0;
    const receivers = Array.from({ length: 3 }, async () => {
      while (total < senders * perSender) {
        const m = await ctx.receive("sink").catch(() => null);
        if (m === null) return;
        const { s, i } = m.content as { s: number; i: number };
        const list = seen.get(s) ?? [];
        list.push(i);
        seen.set(s, list);
        total++;
        if (total === senders * perSender) ctx.cleanup("sink");
      }
    });
    await Promise.all(
      Array.from({ length: senders }, async (_, s) => {
        for (let i = 0; i < perSender; i++) await ctx.send("sink", msg(`s${s}`, "sink", { s, i }));
      }),
    );
    await Promise.all(receivers);
    expect(total).toBe(senders * perSender);
    for (let s = 0; s < senders; s++) {
      expect(seen.get(s)).toEqual(Array.from({ length: perSender }, (_, i) => i));
    }
  });

  test("100k sync calls, timeouts racing responses: no leaked pending entries", async () => {
    const clock = new BatchClock();
    const ctx = new ChannelContext({ clock, capacity: 2048 });
    ctx.addModule("client");
    ctx.addModule("server");
    const total = 100_000;
    const batch = 1000;
    let resolved = 0;
    let timedOut = 0;
    for (let start = 0; start < total; start += batch) {
      const calls: Promise<void>[] = [];
      for (let i = start; i < start + batch; i++) {
        calls.push(
          ctx.sendSync("server", msg("client", "server", i), 1000).then(
            () => {
              resolved++;
            },
            (e: unknown) => {
              if (!isOpenEdgeError(e, "ERR_TIMEOUT")) throw e;
              timedOut++;
            },
          ),
        );
      }
      const late: Message[] = [];
      for (let i = start; i < start + batch; i++) {
        const req = await ctx.receive("server");
        const n = req.content as number;
        if (n % 3 === 0) continue; // silent: times out
        if (n % 3 === 1)
          late.push(req); // answers after the timeout fired
        else await ctx.sendResp(responseTo(req, n));
      }
      clock.fireAll();
      for (const req of late) await ctx.sendResp(responseTo(req, "late"));
      await Promise.all(calls);
    }
    const silent = Math.ceil(total / 3);
    const lateCount = Math.floor((total + 1) / 3);
    expect(resolved).toBe(total - silent - lateCount);
    expect(timedOut).toBe(silent + lateCount);
    expect(ctx.pendingSync()).toBe(0);
    expect(clock.pending).toBe(0);
    const stats = ctx.stats();
    expect(stats.lateResponses).toBe(lateCount);
    expect(stats.modules.every((m) => m.depth === 0)).toBe(true);
  });

  test("cleanup while many senders are blocked: all released with an error, none delivered", async () => {
    const ctx = new ChannelContext({ capacity: 1 });
    ctx.addModule("slow");
    await ctx.send("slow", msg("x", "slow", "first"));
    const results = Array.from({ length: 200 }, (_, i) => outcome(ctx.send("slow", msg("x", "slow", i))));
    const syncs = Array.from({ length: 50 }, () => outcome(ctx.sendSync("slow", msg("x", "slow"), 60_000)));
    await flush();
    expect(ctx.stats().modules[0]?.blockedSenders).toBe(250);
    ctx.cleanup("slow");
    for (const r of await Promise.all([...results, ...syncs])) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(isOpenEdgeError(r.error, "ERR_CLOSED")).toBe(true);
    }
    expect(ctx.pendingSync()).toBe(0);
  });

  test("concurrent group syncs with one silent member all reject naming it", async () => {
    const clock = new BatchClock();
    const ctx = new ChannelContext({ clock });
    for (const m of ["w1", "w2", "w3"]) ctx.addModule(m, "workers");
    ctx.addModule("boss");
    const calls = Array.from({ length: 100 }, (_, i) =>
      outcome(ctx.sendToGroupSync("workers", msg("boss", "", i), 500)),
    );
    for (let i = 0; i < 100; i++) {
      await ctx.sendResp(responseTo(await ctx.receive("w1"), "one"));
      await ctx.sendResp(responseTo(await ctx.receive("w3"), "three"));
    }
    clock.fireAll();
    for (const r of await Promise.all(calls)) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect((r.error as { details: { missing: string[] } }).details.missing).toEqual(["w2"]);
    }
    expect(ctx.pendingSync()).toBe(0);
  });

  test("receivers blocked on an empty queue are served in arrival order", async () => {
    const ctx = new ChannelContext();
    ctx.addModule("q");
    const order: number[] = [];
    const receivers = [0, 1, 2].map((r) =>
      ctx.receive("q").then((m) => order.push(r * 10 + (m.content as number))),
    );
    for (let i = 0; i < 3; i++) await ctx.send("q", msg("x", "q", i));
    await Promise.all(receivers);
    expect(order).toEqual([0, 11, 22]);
  });
});
