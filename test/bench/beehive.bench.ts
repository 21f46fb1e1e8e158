// Beehive bus figures, each next to a bare reference measured in the same run:
// - channel context send/receive and sendSync round trips vs a minimal array+promise queue;
// - socket context one-way stream (200-byte content) and sync round-trip latency between two processes
//   vs a bare unix-socket echo with the same 12-byte framing and the same codec (no bus: no queues,
//   seqs, acks, routing), and vs a bare byte echo (same frame, echoed undecoded: the transport floor).
// Run: bun test/bench/beehive.bench.ts   (no assertions on timings)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FrameSocket } from "../../src/beehive/frame-socket.ts";
import {
  buildMessage,
  ChannelContext,
  type Codec,
  encodeFrame,
  jsonCodec,
  type Message,
  msgpackCodec,
  responseTo,
  SocketServer,
} from "../../src/beehive/index.ts";

const CHILD = join(import.meta.dir, "../fixtures/beehive/bench-child.ts");
const CHANNEL_MSGS = 500_000;
const CHANNEL_SYNCS = 100_000;
const STREAM_MSGS = 50_000;
const LATENCY_SAMPLES = 5_000;
const WARMUP = 500;
const BLOCK = 20;
const RUNS = 7;

interface Row {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  baselineName: string;
  /** How many times slower than the reference the bus is. */
  ratio: number;
}
const rows: Row[] = [];

function message(content: unknown, id?: string): Message {
  const m = buildMessage({
    source: "bench",
    destination: "echo",
    operation: "insert",
    resource: "message",
    content,
  });
  if (id !== undefined) m.header.id = id;
  return m;
}

const CONTENT_200 = "x".repeat(200);

// --- bare reference queue ---------------------------------------------------------------------

/** The minimal async queue: an array and a list of waiting resolvers (what a hand-rolled bus would be). */
class BareQueue<T> {
  private items: T[] = [];
  private waiters: ((v: T) => void)[] = [];
  push(v: T): void {
    const w = this.waiters.shift();
    if (w !== undefined) w(v);
    else this.items.push(v);
  }
  pop(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

async function bareSendReceive(n: number): Promise<number> {
  const q = new BareQueue<Message>();
  const m = message(null);
  const t0 = performance.now();
  const consumer = (async () => {
    for (let i = 0; i < n; i++) await q.pop();
  })();
  for (let i = 0; i < n; i++) {
    q.push(m);
    if ((i & 1023) === 0) await null; // let the consumer run, as a bounded queue's backpressure would
  }
  await consumer;
  return n / ((performance.now() - t0) / 1000);
}

async function channelSendReceive(n: number): Promise<number> {
  const ctx = new ChannelContext();
  ctx.addModule("sink");
  const m = message(null);
  const t0 = performance.now();
  const consumer = (async () => {
    for (let i = 0; i < n; i++) await ctx.receive("sink");
  })();
  for (let i = 0; i < n; i++) await ctx.send("sink", m);
  await consumer;
  await ctx.close();
  return n / ((performance.now() - t0) / 1000);
}

async function bareSync(msgs: Message[]): Promise<number> {
  const requests = new BareQueue<Message>();
  const responses = new BareQueue<Message>();
  const t0 = performance.now();
  const responder = (async () => {
    for (let i = 0; i < msgs.length; i++) {
      const req = await requests.pop();
      responses.push(responseTo(req, null));
    }
  })();
  for (const m of msgs) {
    requests.push(m);
    await responses.pop();
  }
  await responder;
  return msgs.length / ((performance.now() - t0) / 1000);
}

async function channelSync(msgs: Message[]): Promise<number> {
  const ctx = new ChannelContext();
  ctx.addModule("client");
  ctx.addModule("server");
  const t0 = performance.now();
  const responder = (async () => {
    for (let i = 0; i < msgs.length; i++) {
      const req = await ctx.receive("server");
      await ctx.sendResp(responseTo(req, null));
    }
  })();
  for (const m of msgs) await ctx.sendSync("server", m, 30_000);
  await responder;
  await ctx.close();
  return msgs.length / ((performance.now() - t0) / 1000);
}

// --- socket: bus ------------------------------------------------------------------------------

// --- cpu placement -------------------------------------------------------------------------------
// On a VM, a wake-up across cores costs ~50 µs and one on the same core ~10 µs, and the scheduler
// picks either at random per process: unpinned, latency figures swing 3x between runs. So each
// measure pins (taskset, where present) the master and every child explicitly.

const childPids = new Set<number>();
const canPin = Bun.which("taskset") !== null && navigator.hardwareConcurrency >= 2;

function pin(pid: number, cpu: number): void {
  if (canPin)
    Bun.spawnSync(["taskset", "-cp", String(cpu), String(pid)], { stdout: "ignore", stderr: "ignore" });
}

/** Master on cpu 0; children on `childCpu` (1: cross-core, 0: same core). */
function place(childCpu: number): void {
  pin(process.pid, 0);
  for (const pid of childPids) pin(pid, childCpu);
}

async function spawnChild(args: string[]) {
  const proc = Bun.spawn([process.execPath, CHILD, ...args], { stdout: "pipe", stderr: "inherit" });
  childPids.add(proc.pid);
  void proc.exited.then(() => childPids.delete(proc.pid));
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`bench child exited early: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return proc;
}

async function withBus<T>(codec: Codec, fn: (ctx: ChannelContext) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "bhb-"));
  const ctx = new ChannelContext();
  ctx.addModule("bench");
  const server = new SocketServer({ context: ctx, path: join(dir, "bus") });
  await server.listen();
  const child = await spawnChild(["bus", join(dir, "bus"), codec.name]);
  while (!ctx.stats().modules.some((m) => m.name === "echo" && m.connected)) await Bun.sleep(1);
  try {
    return await fn(ctx);
  } finally {
    child.kill(9);
    await child.exited;
    await server.close();
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function busStream(ctx: ChannelContext, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await ctx.send("echo", message(CONTENT_200, `m${i}`));
  await ctx.sendSync("echo", message("barrier"), 30_000);
  return n / ((performance.now() - t0) / 1000);
}

async function busRoundTrip(ctx: ChannelContext): Promise<number> {
  const m = message(CONTENT_200);
  const t0 = performance.now();
  await ctx.sendSync("echo", m, 30_000);
  return performance.now() - t0;
}

// --- socket: bare echo with the same framing ------------------------------------------------------

async function withRaw<T>(codec: Codec, fn: (raw: RawPeer) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "bhr-"));
  const path = join(dir, "raw");
  const peer = new RawPeer(codec);
  const listener = Bun.listen({
    unix: path,
    socket: {
      open: (socket) => peer.open(socket),
      data: (_s, chunk) => peer.fs?.data(chunk),
      drain: () => peer.fs?.drain(),
    },
  });
  const child = await spawnChild(["raw", path, codec.name]);
  while (peer.fs === null) await Bun.sleep(1);
  try {
    return await fn(peer);
  } finally {
    child.kill(9);
    await child.exited;
    listener.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
}

class RawPeer {
  fs: FrameSocket | null = null;
  private waiter: (() => void) | null = null;
  constructor(private readonly codec: Codec) {}
  open(socket: ConstructorParameters<typeof FrameSocket>[0]): void {
    this.fs = new FrameSocket(socket, {
      codec: this.codec,
      maxFrameBytes: 4 * 1024 * 1024,
      onFrame: () => {
        const w = this.waiter;
        this.waiter = null;
        w?.();
      },
      onReject: (reason) => {
        throw new Error(`raw frame rejected: ${reason}`);
      },
    });
  }
  /** Writes `value` (echo: true) and resolves when its echo came back. */
  roundTrip(value: object): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.fs?.send({ ...value, echo: true });
    });
  }
}

async function rawStream(raw: RawPeer, n: number): Promise<number> {
  const fs = raw.fs as FrameSocket;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    fs.send({ k: "msg", n: "echo", s: i, m: message(CONTENT_200, `m${i}`) });
    // yield now and then so the writes flush, as the bus's window does
    if ((i & 255) === 255) await new Promise((resolve) => setImmediate(resolve));
    while (fs.backlog > 1 << 20) await new Promise((resolve) => setImmediate(resolve));
  }
  await raw.roundTrip({ m: message("barrier") });
  return n / ((performance.now() - t0) / 1000);
}

async function rawRoundTrip(raw: RawPeer): Promise<number> {
  const value = { m: message(CONTENT_200) };
  const t0 = performance.now();
  await raw.roundTrip(value);
  return performance.now() - t0;
}

/** The floor: a prebuilt frame written, the same bytes echoed back undecoded. */
class BytesPeer {
  socket: ConstructorParameters<typeof FrameSocket>[0] | null = null;
  private got = 0;
  private want = 0;
  private waiter: (() => void) | null = null;
  readonly frame = encodeFrame(msgpackCodec, { m: message(CONTENT_200) });
  received(bytes: number): void {
    this.got += bytes;
    if (this.got >= this.want && this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w();
    }
  }
  roundTrip(): Promise<number> {
    const t0 = performance.now();
    return new Promise((resolve) => {
      this.got = 0;
      this.want = this.frame.length;
      this.waiter = () => resolve(performance.now() - t0);
      this.socket?.write(this.frame);
    });
  }
}

async function withBytes<T>(fn: (peer: BytesPeer) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "bhy-"));
  const path = join(dir, "bytes");
  const peer = new BytesPeer();
  const listener = Bun.listen({
    unix: path,
    socket: {
      open: (socket) => {
        peer.socket = socket;
      },
      data: (_s, chunk) => peer.received(chunk.length),
    },
  });
  const child = await spawnChild(["bytes", path]);
  while (peer.socket === null) await Bun.sleep(1);
  try {
    return await fn(peer);
  } finally {
    child.kill(9);
    await child.exited;
    listener.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
}

function percentile(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

// --- run ------------------------------------------------------------------------------------------

function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/**
 * Runs `a` and `b` alternately RUNS times, so both see the same machine (this one is shared and noisy):
 * the figures are medians, the ratio is the median of the paired ratios b_i / a_i.
 */
async function alternate(
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<{ value: number; baseline: number; ratio: number }> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    as.push(await a());
    bs.push(await b());
  }
  return { value: median(as), baseline: median(bs), ratio: median(bs.map((x, i) => x / (as[i] as number))) };
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `beehive bench: bun ${Bun.version}, ${navigator.hardwareConcurrency} cpus, medians of ${RUNS} alternating runs${canPin ? ", cpu-pinned" : ", not pinned (no taskset)"}`,
  );

  pin(process.pid, 0);
  const sr = await alternate(
    () => channelSendReceive(CHANNEL_MSGS),
    () => bareSendReceive(CHANNEL_MSGS),
  );
  rows.push({
    name: "channel send/receive",
    ...sr,
    unit: "msg/s",
    baselineName: "bare async queue",
  });

  const syncMsgs = Array.from({ length: CHANNEL_SYNCS }, (_, i) => message(null, `s${i}`));
  const sy = await alternate(
    () => channelSync(syncMsgs),
    () => bareSync(syncMsgs),
  );
  rows.push({
    name: "channel sendSync round trips",
    ...sy,
    unit: "rt/s",
    baselineName: "bare queue pair",
  });

  for (const codec of [jsonCodec, msgpackCodec]) {
    await withBus(codec, (ctx) =>
      withRaw(codec, (raw) =>
        withBytes(async (bytesPeer) => {
          // throughput wants both cores; the references run under the same placement
          place(1);
          const stream = await alternate(
            () => busStream(ctx, STREAM_MSGS),
            () => rawStream(raw, STREAM_MSGS),
          );
          rows.push({
            name: `socket ${codec.name} stream 200B`,
            ...stream,
            unit: "msg/s",
            baselineName: "bare framed stream (cross-core)",
          });
          for (const [where, cpu] of [
            ["same-core", 0],
            ["cross-core", 1],
          ] as const) {
            place(cpu);
            // blocks of bus, bare and byte round trips in turn, so all see the same machine
            const bus: number[] = [];
            const bare: number[] = [];
            const bytes: number[] = [];
            for (let done = -WARMUP; done < LATENCY_SAMPLES; done += BLOCK) {
              for (let i = 0; i < BLOCK; i++) {
                const t = await busRoundTrip(ctx);
                if (done >= 0) bus.push(t);
              }
              for (let i = 0; i < BLOCK; i++) {
                const t = await rawRoundTrip(raw);
                if (done >= 0) bare.push(t);
              }
              for (let i = 0; i < BLOCK; i++) {
                const t = await bytesPeer.roundTrip();
                if (done >= 0) bytes.push(t);
              }
            }
            for (const p of [50, 99]) {
              rows.push({
                name: `socket ${codec.name} sync p${p} ${where}`,
                value: percentile(bus, p) * 1000,
                unit: "µs",
                baseline: percentile(bare, p) * 1000,
                ratio: percentile(bus, p) / percentile(bare, p),
                baselineName: `bare framed echo (${codec.name})`,
              });
            }
            rows.push({
              name: `  byte echo p50 ${where}`,
              value: percentile(bus, 50) * 1000,
              unit: "µs",
              baseline: percentile(bytes, 50) * 1000,
              ratio: percentile(bus, 50) / percentile(bytes, 50),
              baselineName: "bare byte echo, no codec (floor)",
            });
          }
        }),
      ),
    );
  }

  const fmt = (v: number) => (v >= 1000 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1));
  console.log("");
  console.log(
    `${"measure".padEnd(36)} ${"value".padStart(16)} ${"reference".padStart(16)}  ${"ratio".padStart(6)}  reference`,
  );
  for (const r of rows) {
    const ratio = r.ratio;
    console.log(
      `${r.name.padEnd(36)} ${`${fmt(r.value)} ${r.unit}`.padStart(16)} ${`${fmt(r.baseline)} ${r.unit}`.padStart(16)}  ${`${ratio.toFixed(2)}x`.padStart(6)}  ${r.baselineName}`,
    );
  }
  console.log("\n(ratio = times slower than the reference; goals: channel <= 2x, socket <= 1.5x)");
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
process.exit(0);
