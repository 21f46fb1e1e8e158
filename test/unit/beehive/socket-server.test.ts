import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, statSync, writeFileSync } from "node:fs";
import {
  ChannelContext,
  encodeFrame,
  HEADER_BYTES,
  jsonCodec,
  msgpackCodec,
  responseTo,
  SocketClientContext,
  SocketServer,
} from "../../../src/beehive/index.ts";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";
import { memoryLog, msg, outcome, rawClient, tempSocket, waitFor } from "./helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function master(opts: { window?: number; capacity?: number; maxFrameBytes?: number } = {}) {
  const tmp = tempSocket();
  const { log, events } = memoryLog();
  const ctx = new ChannelContext({ log, capacity: opts.capacity });
  ctx.addModule("local", "mixed");
  const server = new SocketServer({
    context: ctx,
    path: tmp.path,
    log,
    window: opts.window,
    maxFrameBytes: opts.maxFrameBytes,
  });
  await server.listen();
  cleanups.push(
    tmp.remove,
    () => ctx.close(),
    () => server.close(),
  );
  return { ctx, server, path: tmp.path, dir: tmp.dir, events };
}

async function client(
  path: string,
  name: string | null,
  codec: "json" | "msgpack" = "json",
  group = "remotes",
) {
  const c = new SocketClientContext({ path, codec, backoff: { minMs: 5, maxMs: 50 } });
  if (name !== null) c.addModule(name, group);
  cleanups.push(() => c.close());
  await c.connect();
  return c;
}

/** A remote module loop answering sync requests with their content. */
function echoLoop(c: SocketClientContext, name: string): void {
  void (async () => {
    for (;;) {
      const m = await c.receive(name).catch(() => null);
      if (m === null) return;
      if (m.header.sync) await c.sendResp(responseTo(m, m.content)).catch(() => {});
    }
  })();
}

describe("socket server: listening", () => {
  test("removes a stale socket file and creates the socket with mode 0600", async () => {
    const { path, server } = await master();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // simulate a crashed master: the file stays, nobody listens
    await server.close();
    const stale = Bun.listen({ unix: path, socket: { data() {} } });
    stale.stop(true);
    const ctx2 = new ChannelContext();
    const again = new SocketServer({ context: ctx2, path });
    await again.listen();
    cleanups.push(() => again.close());
    const c = await client(path, "late");
    expect(c.connected).toBe(true);
  });

  test("refuses a path that is a regular file, or a socket a live server still answers on", async () => {
    const tmp = tempSocket();
    cleanups.push(tmp.remove);
    writeFileSync(tmp.path, "not a socket");
    const r = await outcome(new SocketServer({ context: new ChannelContext(), path: tmp.path }).listen());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(isOpenEdgeError(r.error, "ERR_CONFLICT")).toBe(true);
    const { path } = await master();
    const second = await outcome(new SocketServer({ context: new ChannelContext(), path }).listen());
    expect(second.ok).toBe(false);
    if (!second.ok) expect(isOpenEdgeError(second.error, "ERR_LOCKED")).toBe(true);
  });

  test("close removes the socket file", async () => {
    const { path, server } = await master();
    await server.close();
    expect(existsSync(path)).toBe(false);
  });
});

describe("socket server: bad frames close only their connection", () => {
  const cases: [string, () => Uint8Array][] = [
    ["bad_magic", () => Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
    [
      "bad_version",
      () => {
        const f = encodeFrame(jsonCodec, { k: "hello", mods: [] });
        f[5] = 0x39;
        return f;
      },
    ],
    [
      "unknown_codec",
      () => {
        const f = encodeFrame(jsonCodec, { k: "hello", mods: [] });
        f[6] = 1;
        return f;
      },
    ],
    [
      "too_large",
      () => {
        const f = Buffer.from(encodeFrame(jsonCodec, 0).subarray(0, HEADER_BYTES));
        f.writeUInt32BE(5 * 1024 * 1024, 8);
        return f;
      },
    ],
    [
      "bad_body",
      () => {
        const f = Buffer.from(encodeFrame(msgpackCodec, 0).subarray(0, HEADER_BYTES));
        f.writeUInt32BE(3, 8);
        return Buffer.concat([f, Buffer.from([0xc1, 0xc1, 0xc1])]);
      },
    ],
    ["bad_request", () => encodeFrame(jsonCodec, { k: "nonsense" })],
    ["no_hello", () => encodeFrame(jsonCodec, { k: "ack", n: "x", s: 1 })],
  ];

  test.each(cases)("%s", async (reason, frame) => {
    const { ctx, path, server, events } = await master();
    const good = await client(path, "good");
    echoLoop(good, "good");
    const bystander = await rawClient(path);
    bystander.write(encodeFrame(jsonCodec, { k: "hello", mods: [] }));
    const bad = await rawClient(path);
    bad.write(frame());
    await waitFor(() => bad.state.closed, "the bad connection to be closed");
    const rejected = events("bus_frame_rejected");
    expect(rejected.length).toBe(1);
    expect(rejected[0]?.fields).toMatchObject({ reason });
    expect(typeof rejected[0]?.fields.conn).toBe("number");
    // the server and every other connection are untouched
    expect(bystander.state.closed).toBe(false);
    const resp = await ctx.sendSync("good", msg("local", "good", "still here"), 2000);
    expect(resp.content).toBe("still here");
    expect(server.stats().rejectedFrames).toBe(1);
    expect(server.stats().connections).toBe(2);
    const again = await client(path, null);
    expect(again.connected).toBe(true);
  });

  test("a slow trickle of valid frames in tiny chunks is fine", async () => {
    const { path, ctx } = await master();
    const raw = await rawClient(path);
    const hello = encodeFrame(msgpackCodec, { k: "hello", mods: [{ n: "trickle", g: [], e: "", a: 0 }] });
    for (let i = 0; i < hello.length; i++) raw.write(hello.subarray(i, i + 1));
    await waitFor(() => raw.state.received.length > 0, "the welcome");
    expect(ctx.stats().modules.find((m) => m.name === "trickle")).toMatchObject({
      remote: true,
      connected: true,
    });
  });
});

describe("socket server: registration", () => {
  test("a second connection claiming a connected module is refused; the first keeps working", async () => {
    const { ctx, path, events } = await master();
    const first = await client(path, "dup");
    echoLoop(first, "dup");
    const second = new SocketClientContext({ path, backoff: { minMs: 10_000, maxMs: 10_000 } });
    cleanups.push(() => second.close());
    second.addModule("dup");
    second.connect().catch(() => {});
    await waitFor(() => events("bus_frame_rejected").length === 1, "the refusal");
    expect(events("bus_frame_rejected")[0]?.fields).toMatchObject({ reason: "registration_refused" });
    expect((await ctx.sendSync("dup", msg("local", "dup", 1), 2000)).content).toBe(1);
  });

  test("a remote may not take the name of a master-local module", async () => {
    const { path, events } = await master();
    const c = new SocketClientContext({ path, backoff: { minMs: 10_000, maxMs: 10_000 } });
    cleanups.push(() => c.close());
    c.addModule("local");
    c.connect().catch(() => {});
    await waitFor(() => events("bus_frame_rejected").length === 1, "the refusal");
    expect(String(events("bus_frame_rejected")[0]?.fields.error)).toContain("local module");
  });

  test("the master cannot receive for a remote module", async () => {
    const { ctx, path } = await master();
    await client(path, "far");
    const r = await outcome(ctx.receive("far"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(isOpenEdgeError(r.error, "ERR_CONFLICT")).toBe(true);
  });

  test("modules added after connecting register; cleanup on the client cleans up on the master", async () => {
    const { ctx, path } = await master();
    const c = await client(path, null);
    c.addModule("later", "g2");
    c.addModuleGroup("later", "g3");
    await waitFor(() => ctx.members("g3").includes("later"), "the late registration");
    expect(ctx.members("g2")).toEqual(["later"]);
    await ctx.send("later", msg("local", "later", "hi"));
    expect((await c.receive("later")).content).toBe("hi");
    c.cleanup("later");
    await waitFor(() => ctx.queue("later") === undefined, "the master-side cleanup");
  });
});

describe("socket client: errors and flow control across the boundary", () => {
  test("typed errors cross: unknown module, queue full, sync timeout", async () => {
    const { path, ctx } = await master({ capacity: 1 });
    const c = await client(path, "r");
    const unknown = await outcome(c.send("nobody", msg("r", "nobody")));
    expect(!unknown.ok && isOpenEdgeError(unknown.error, "ERR_UNKNOWN_MODULE")).toBe(true);
    await c.send("local", msg("r", "local", 1));
    const full = await outcome(c.send("local", msg("r", "local", 2), { failFast: true }));
    expect(!full.ok && isOpenEdgeError(full.error, "ERR_QUEUE_FULL")).toBe(true);
    const req = msg("r", "local");
    const timeout = await outcome(c.sendSync("local", req, 30));
    expect(!timeout.ok && isOpenEdgeError(timeout.error, "ERR_TIMEOUT")).toBe(true);
    if (!timeout.ok) expect((timeout.error as Error).message).toContain(req.header.id);
    expect(c.pendingRequests()).toBe(0);
    expect(ctx.pendingSync()).toBe(0);
  });

  test("a remote that does not consume backs up into its bounded queue and blocks senders", async () => {
    const { ctx, path } = await master({ window: 4, capacity: 8 });
    const c = await client(path, "lazy");
    for (let i = 0; i < 12; i++) await ctx.send("lazy", msg("local", "lazy", i));
    const blocked = ctx.send("lazy", msg("local", "lazy", 12));
    const full = await outcome(ctx.send("lazy", msg("local", "lazy", 13), { failFast: true }));
    expect(!full.ok && isOpenEdgeError(full.error, "ERR_QUEUE_FULL")).toBe(true);
    const stats = () => ctx.stats().modules.find((m) => m.name === "lazy");
    expect(stats()).toMatchObject({ inflight: 4, depth: 8, blockedSenders: 1 });
    const got: unknown[] = [];
    for (let i = 0; i < 13; i++) got.push((await c.receive("lazy")).content);
    await blocked;
    expect(got).toEqual(Array.from({ length: 13 }, (_, i) => i));
    await waitFor(() => stats()?.inflight === 0, "all acks");
  });

  test("a message that cannot be encoded for the remote fails its sync sender with an error response", async () => {
    const { ctx, path, events } = await master();
    await client(path, "r");
    const bad = msg("local", "r", { n: 10n });
    const resp = await ctx.sendSync("r", bad, 2000);
    expect(resp.route.operation).toBe("error");
    expect((resp.content as { code: string }).code).toBe("ERR_FRAME");
    expect(events("bus_message_undeliverable").length).toBe(1);
  });
});

describe("socket client: reconnect", () => {
  test("after a dropped connection every message arrives exactly once, in order", async () => {
    const { ctx, path, server } = await master({ window: 16 });
    const c = await client(path, "w", "msgpack");
    for (let i = 0; i < 10; i++) await ctx.send("w", msg("local", "w", i));
    const got: unknown[] = [];
    await waitFor(() => c.stats().modules[0]?.depth === 10, "deliveries in the client inbox");
    for (let i = 0; i < 3; i++) got.push((await c.receive("w")).content);
    server.disconnectAll();
    await waitFor(() => !ctx.stats().modules.find((m) => m.name === "w")?.connected, "the disconnect");
    // sent while away: waits in the master-side queue
    for (let i = 10; i < 15; i++) await ctx.send("w", msg("local", "w", i));
    await waitFor(() => ctx.stats().modules.find((m) => m.name === "w")?.connected === true, "the reconnect");
    for (let i = 3; i < 15; i++) got.push((await c.receive("w")).content);
    expect(got).toEqual(Array.from({ length: 15 }, (_, i) => i));
    await waitFor(() => ctx.stats().modules.find((m) => m.name === "w")?.inflight === 0, "all acks");
    // the resent copies of 3..9 were recognised and dropped by the client
    expect(c.stats().modules[0]?.dropped).toBe(7);
    expect(c.stats().modules[0]?.depth).toBe(0);
  });

  test("requests wait for the connection; failFast ones fail while it is down", async () => {
    const { ctx, path, server, dir } = await master();
    const c = await client(path, "w");
    await server.close();
    await waitFor(() => !c.connected, "the client to notice");
    const ff = await outcome(c.send("local", msg("w", "local"), { failFast: true }));
    expect(!ff.ok && isOpenEdgeError(ff.error, "ERR_CLOSED")).toBe(true);
    const waiting = c.send("local", msg("w", "local", "queued while down"));
    const revived = new SocketServer({ context: ctx, path: `${dir}/bus` });
    await revived.listen();
    cleanups.push(() => revived.close());
    await waiting;
    expect((await ctx.receive("local")).content).toBe("queued while down");
  });

  test("close rejects pending work and stops reconnecting", async () => {
    const { path, server } = await master();
    const c = await client(path, "w");
    const rec = outcome(c.receive("w"));
    await server.close();
    await waitFor(() => !c.connected, "the client to notice");
    const pending = outcome(c.send("local", msg("w", "local")));
    await c.close();
    expect((await rec).ok).toBe(false);
    const p = await pending;
    expect(!p.ok && isOpenEdgeError(p.error, "ERR_CLOSED")).toBe(true);
    expect(c.pendingRequests()).toBe(0);
  });
});
