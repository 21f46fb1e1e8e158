// One suite of BusContext behaviours, run against every implementation: the in-process channel
// context, and the socket client context talking to a real server (in-process) over a unix socket.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BusContext,
  buildMessage,
  ChannelContext,
  type Message,
  responseTo,
  SocketClientContext,
  SocketServer,
} from "../../src/beehive/index.ts";
import { isOpenEdgeError } from "../../src/lib/errors.ts";

interface Harness {
  /** The context under test; its modules are added with `ctx.addModule`. */
  ctx: BusContext;
  /** Where the other modules live (the master, for the socket context). */
  peer: ChannelContext;
  close(): Promise<void>;
}

const PEER_CAPACITY = 4;

/** The client side of a real server (in-process) on a unix socket in a temp dir. */
async function socketHarness(codec: "json" | "msgpack"): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "bhc-"));
  const peer = new ChannelContext({ capacity: PEER_CAPACITY });
  const server = new SocketServer({ context: peer, path: join(dir, "bus") });
  await server.listen();
  const ctx = new SocketClientContext({ path: join(dir, "bus"), codec });
  await ctx.connect();
  return {
    ctx,
    peer,
    close: async () => {
      await ctx.close();
      await server.close();
      await peer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const implementations: [string, () => Promise<Harness>][] = [
  [
    "channel context",
    async () => {
      const ctx = new ChannelContext({ capacity: PEER_CAPACITY });
      return { ctx, peer: ctx, close: () => ctx.close() };
    },
  ],
  ["socket context (json)", () => socketHarness("json")],
  ["socket context (msgpack)", () => socketHarness("msgpack")],
];

function m(source: string, destination: string, content: unknown = null): Message {
  return buildMessage({ source, destination, operation: "query", resource: "message", content });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

/** Waits for `cond` while real socket I/O happens (immediate in-process). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 2000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(1);
  }
}

describe.each(implementations)("BusContext contract: %s", (_name, make) => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  async function setup(): Promise<Harness> {
    h = await make();
    h.ctx.addModule("me", "mine");
    h.peer.addModule("p1", "peers");
    h.peer.addModule("p2", "peers");
    await until(() => h.peer.modules().includes("me"), "the registration of me");
    return h;
  }

  test("send reaches the destination's queue in order; receive gets what is sent to us", async () => {
    const { ctx, peer } = await setup();
    await ctx.send("p1", m("me", "p1", 1));
    await ctx.send("p1", m("me", "p1", 2));
    expect((await peer.receive("p1")).content).toBe(1);
    expect((await peer.receive("p1")).content).toBe(2);
    const pending = ctx.receive("me");
    await peer.send("me", m("p1", "me", "a"));
    await peer.send("me", m("p1", "me", "b"));
    expect((await pending).content).toBe("a");
    expect((await ctx.receive("me")).content).toBe("b");
  });

  test("tryReceive takes what is there without waiting", async () => {
    const { ctx, peer } = await setup();
    expect(ctx.tryReceive("me")).toBeUndefined();
    await peer.send("me", m("p1", "me", "first"));
    await peer.send("me", m("p1", "me", "second"));
    await until(() => ctx.stats().modules.some((s) => s.name === "me" && s.depth === 2), "both deliveries");
    expect(ctx.tryReceive("me")?.content).toBe("first");
    expect((await ctx.receive("me")).content).toBe("second");
    expect(ctx.tryReceive("me")).toBeUndefined();
    expect(() => ctx.tryReceive("ghost")).toThrow();
  });

  test("binary content survives", async () => {
    const { ctx, peer } = await setup();
    await ctx.send("p1", m("me", "p1", { b: new Uint8Array([0, 1, 254, 255]) }));
    const got = (await peer.receive("p1")).content as { b: Uint8Array };
    expect([...got.b]).toEqual([0, 1, 254, 255]);
  });

  test("sendSync resolves with the matching response", async () => {
    const { ctx, peer } = await setup();
    const req = m("me", "p1", "ping");
    const pending = ctx.sendSync("p1", req, 2000);
    const got = await peer.receive("p1");
    await peer.sendResp(responseTo(got, "pong"));
    const resp = await pending;
    expect(resp.content).toBe("pong");
    expect(resp.header.parentId).toBe(req.header.id);
  });

  test("sendSync rejects with ERR_TIMEOUT naming the message id", async () => {
    const { ctx } = await setup();
    const req = m("me", "p1");
    const error = await rejection(ctx.sendSync("p1", req, 30));
    expect(isOpenEdgeError(error, "ERR_TIMEOUT")).toBe(true);
    expect((error as Error).message).toContain(req.header.id);
  });

  test("a module answers a sync request with sendResp", async () => {
    const { ctx, peer } = await setup();
    const pending = peer.sendSync("me", m("p1", "me", "question"), 2000);
    const got = await ctx.receive("me");
    expect(got.header.sync).toBe(true);
    await ctx.sendResp(responseTo(got, "answer"));
    expect((await pending).content).toBe("answer");
  });

  test("sendResp with nobody waiting goes to the destination's queue", async () => {
    const { ctx, peer } = await setup();
    const resp = responseTo(m("p1", "me"), "unsolicited");
    await ctx.sendResp(resp);
    expect((await peer.receive("p1")).header.id).toBe(resp.header.id);
  });

  test("sendToGroup reaches every member", async () => {
    const { ctx, peer } = await setup();
    await ctx.sendToGroup("peers", m("me", "", "all"));
    expect((await peer.receive("p1")).content).toBe("all");
    expect((await peer.receive("p2")).content).toBe("all");
  });

  test("sendToGroupSync: one response per member, or an error naming the silent one", async () => {
    const { ctx, peer } = await setup();
    const pending = ctx.sendToGroupSync("peers", m("me", "", "q"), 2000);
    await peer.sendResp(responseTo(await peer.receive("p2"), "two"));
    await peer.sendResp(responseTo(await peer.receive("p1"), "one"));
    expect((await pending).map((r) => r.content)).toEqual(["one", "two"]);

    const silent = ctx.sendToGroupSync("peers", m("me", "", "q2"), 50);
    await peer.sendResp(responseTo(await peer.receive("p1"), "one"));
    const error = await rejection(silent);
    expect(isOpenEdgeError(error, "ERR_TIMEOUT")).toBe(true);
    expect((error as { details: { missing: string[] } }).details.missing).toEqual(["p2"]);
  });

  test("typed errors: unknown module, full queue with failFast", async () => {
    const { ctx } = await setup();
    expect(isOpenEdgeError(await rejection(ctx.send("ghost", m("me", "ghost"))), "ERR_UNKNOWN_MODULE")).toBe(
      true,
    );
    for (let i = 0; i < PEER_CAPACITY; i++) await ctx.send("p2", m("me", "p2", i), { failFast: true });
    const full = await rejection(ctx.send("p2", m("me", "p2"), { failFast: true }));
    expect(isOpenEdgeError(full, "ERR_QUEUE_FULL")).toBe(true);
    expect(isOpenEdgeError(await rejection(ctx.receive("ghost")), "ERR_UNKNOWN_MODULE")).toBe(true);
  });

  test("a blocked send completes once the receiver makes room", async () => {
    const { ctx, peer } = await setup();
    for (let i = 0; i < PEER_CAPACITY; i++) await ctx.send("p2", m("me", "p2", i));
    let done = false;
    const blocked = ctx.send("p2", m("me", "p2", "last")).then(() => {
      done = true;
    });
    await until(() => peer.stats().modules.some((s) => s.blockedSenders === 1), "the sender to block");
    expect(done).toBe(false);
    const got = [];
    for (let i = 0; i <= PEER_CAPACITY; i++) got.push((await peer.receive("p2")).content);
    await blocked;
    expect(got).toEqual([0, 1, 2, 3, "last"]);
  });

  test("cleanup releases a pending receive with ERR_CLOSED", async () => {
    const { ctx } = await setup();
    const pending = rejection(ctx.receive("me"));
    ctx.cleanup("me");
    expect(isOpenEdgeError(await pending, "ERR_CLOSED")).toBe(true);
  });

  test("stats lists the module as plain JSON; close rejects later calls", async () => {
    const { ctx } = await setup();
    const stats = ctx.stats();
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
    expect(stats.modules.map((s) => s.name)).toContain("me");
    expect(stats.pendingSync).toBe(0);
    await ctx.close();
    expect(isOpenEdgeError(await rejection(ctx.send("p1", m("me", "p1"))), "ERR_CLOSED")).toBe(true);
  });
});
