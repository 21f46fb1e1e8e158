// Hub figures next to Debian's mosquitto, both driven by the same raw-socket client: QoS 0 fan-in
// (8 → 1), QoS 0 fan-out (1 → 50), QoS 1 fan-in with persistence (persistent subscriber), and
// ping-pong latency p50/p99 at QoS 0 and 1 (idle, under a 4 → 1 flood as fast as each broker takes
// it, and under the same fixed 4 → 1 load for both), RSS per idle connection
// and 10k retained messages to a new subscriber. Deliveries are counted at the subscribers, so a
// broker that drops under load does not look faster. Our hub runs in a child process assembled as
// the openedge-hub built-in with every feature on (see fixtures/hub/bench-server.ts: password logins
// with permission checks, a route, SQLite persistence); both brokers publish $SYS every second to a
// subscriber throughout. The fixed-load rows compare, under the same offered load, mosquitto, the hub
// with its defaults (which poll adaptively after traffic, `busypoll` 200us) and a second hub with
// `busypoll` set to HUB_BENCH_BUSYPOLL (0: sleeping as soon as there is nothing to do), each with the
// CPU the broker used; the three take turns in HUB_BENCH_SEGMENTS (20) short segments each.
// Run: bun test/bench/hub.bench.ts   (no assertions; prints a table with ratios)

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import { BENCH_PASSWORD, BENCH_USER } from "../fixtures/hub/bench-server.ts";

const SECONDS = Number(process.env.HUB_BENCH_SECONDS ?? 3);
/**
 * HUB_BENCH_ONLY=fanin,qos1 runs only those scenarios: memory, retained, fanin, fanout, qos1, pingpong,
 * flood, fixed (loaded = flood and fixed).
 */
const ONLY = process.env.HUB_BENCH_ONLY?.split(",");
const selected = (name: string): boolean => ONLY === undefined || ONLY.includes(name);
const PAYLOAD = new Uint8Array(64).fill(0x61);
/** Offered load of the fixed-rate latency rows: well below mosquitto's QoS 0 fan-in here (120-250k). */
const LOAD_RATE = Number(process.env.HUB_BENCH_LOAD_RATE ?? 50_000);
/**
 * Fixed-load figures: the brokers take turns in this many short segments each (SEGMENT_MS of probing
 * after SETTLE_MS of load alone), and each figure is taken over all its segments' samples together.
 * This VM's speed drifts over seconds: a turn of several seconds each compared whichever broker met
 * the slower spell (per-round p99 ratios from 0.5 to 2 in one run).
 */
const FIXED_SEGMENTS = Number(process.env.HUB_BENCH_SEGMENTS ?? 20);
const SEGMENT_MS = 400;
const SETTLE_MS = 100;
/** The hub's `busypoll` for the second set of fixed-load rows. */
const BUSY_POLL = process.env.HUB_BENCH_BUSYPOLL ?? "0";
const enc = new TextEncoder();

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
function str(s: string): number[] {
  const b = enc.encode(s);
  return [b.length >> 8, b.length & 0xff, ...b];
}
/** With username and password: the hub authenticates every client (mosquitto admits anyone). */
function connectFrame(id: string, clean: boolean): Uint8Array {
  const flags = 0xc0 | (clean ? 2 : 0);
  const body = [...str("MQTT"), 4, flags, 0, 0, ...str(id), ...str(BENCH_USER), ...str(BENCH_PASSWORD)];
  return Uint8Array.from([0x10, ...varint(body.length), ...body]);
}
function subscribeFrame(filter: string, qos: number): Uint8Array {
  const body = [0, 1, ...str(filter), qos];
  return Uint8Array.from([0x82, ...varint(body.length), ...body]);
}
function publishFrame(topic: string, qos: number, id: number, payload = PAYLOAD): Uint8Array {
  const head = [...str(topic), ...(qos > 0 ? [id >> 8, id & 0xff] : [])];
  const len = head.length + payload.length;
  const out = new Uint8Array(1 + varint(len).length + len);
  out.set([0x30 | (qos << 1), ...varint(len), ...head], 0);
  out.set(payload, out.length - payload.length);
  return out;
}

/** A raw MQTT client: counts PUBLISH/PUBACK, acks QoS 1 deliveries, keeps unsent bytes for drain. */
class RawClient {
  socket!: Socket<undefined>;
  published = 0;
  acked = 0;
  private pending: Uint8Array | null = null;
  private rest = new Uint8Array(0);
  private waiters: Array<(refused?: Error) => void> = [];
  onPublish: ((payload: Uint8Array) => void) | null = null;
  onAck: (() => void) | null = null;
  onDrain: (() => void) | null = null;
  onClose: (() => void) | null = null;

  static async open(port: number, id: string, clean = true): Promise<RawClient> {
    const c = new RawClient();
    c.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: { data: (_s, d) => c.read(d), drain: () => c.drain(), close: () => c.onClose?.() },
    });
    c.write(connectFrame(id, clean));
    await c.next();
    return c;
  }
  /** Bytes waiting for the socket to drain. */
  get backlogged(): boolean {
    return this.pending !== null;
  }

  write(bytes: Uint8Array): boolean {
    if (this.pending !== null) {
      const j = new Uint8Array(this.pending.length + bytes.length);
      j.set(this.pending);
      j.set(bytes, this.pending.length);
      this.pending = j;
      return false;
    }
    const n = this.socket.write(bytes);
    if (n < bytes.length) this.pending = bytes.subarray(Math.max(n, 0));
    return n === bytes.length;
  }
  private drain(): void {
    if (this.pending === null) return;
    const p = this.pending;
    this.pending = null;
    if (this.write(p)) this.onDrain?.();
  }
  /** Resolves on the next CONNACK/SUBACK; rejects on a refused connection or subscription. */
  next(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.waiters.push((refused) => (refused === undefined ? resolve() : reject(refused))),
    );
  }
  private read(d: Uint8Array): void {
    let buf = d;
    if (this.rest.length > 0) {
      buf = new Uint8Array(this.rest.length + d.length);
      buf.set(this.rest);
      buf.set(d, this.rest.length);
    }
    let off = 0;
    const acks: number[] = [];
    while (off + 2 <= buf.length) {
      let len = 0;
      let mult = 1;
      let i = off + 1;
      for (;;) {
        if (i >= buf.length) break;
        const b = buf[i++] as number;
        len += (b & 0x7f) * mult;
        mult *= 128;
        if ((b & 0x80) === 0) break;
      }
      if (i + len > buf.length || (buf[i - 1] as number) & 0x80) break;
      const type = (buf[off] as number) >> 4;
      if (type === 3) {
        const qos = ((buf[off] as number) >> 1) & 3;
        const tl = ((buf[i] as number) << 8) | (buf[i + 1] as number);
        this.published++;
        if (qos > 0) acks.push(0x40, 2, buf[i + 2 + tl] as number, buf[i + 3 + tl] as number);
        this.onPublish?.(buf.subarray(i + 2 + tl + (qos > 0 ? 2 : 0), i + len));
      } else if (type === 4) {
        this.acked++;
        this.onAck?.();
      } else if (type === 2 || type === 9) {
        // CONNACK's return code, or the SUBACK's one granted QoS
        const code = buf[type === 2 ? i + 1 : i + 2] as number;
        const refused = type === 2 ? code !== 0 : code === 0x80;
        this.waiters.shift()?.(
          refused ? new Error(`${type === 2 ? "CONNACK" : "SUBACK"} 0x${code.toString(16)}`) : undefined,
        );
      }
      off = i + len;
    }
    this.rest = buf.slice(off);
    if (acks.length > 0) this.write(Uint8Array.from(acks));
  }
  close(): void {
    this.socket.end();
  }
}

async function subscribe(c: RawClient, filter: string, qos: number): Promise<void> {
  c.write(subscribeFrame(filter, qos));
  await c.next();
}

/** Publishes as fast as the socket takes it, 100 frames per write, until told to stop. */
function flood(c: RawClient, frame: Uint8Array, until: () => boolean): void {
  const batch = new Uint8Array(frame.length * 100);
  for (let i = 0; i < 100; i++) batch.set(frame, i * frame.length);
  const pump = (): void => {
    for (let n = 0; n < 64 && !until(); n++) if (!c.write(batch)) return; // resumes on drain
    if (!until()) setImmediate(pump);
  };
  c.onDrain = pump;
  pump();
}

async function measure(seconds: number, count: () => number): Promise<number> {
  await Bun.sleep(300); // warm-up
  const start = count();
  const t0 = performance.now();
  await Bun.sleep(seconds * 1000);
  return ((count() - start) * 1000) / (performance.now() - t0);
}

async function fanIn(port: number, tag: string): Promise<number> {
  const sub = await RawClient.open(port, `${tag}-fi-sub`);
  await subscribe(sub, "bench/in", 0);
  const pubs = await Promise.all(
    Array.from({ length: 8 }, (_, i) => RawClient.open(port, `${tag}-fi-p${i}`)),
  );
  let stop = false;
  for (const p of pubs) flood(p, publishFrame("bench/in", 0, 0), () => stop);
  const rate = await measure(SECONDS, () => sub.published);
  stop = true;
  for (const c of [sub, ...pubs]) c.close();
  return rate;
}

async function fanOut(port: number, tag: string): Promise<number> {
  const subs = await Promise.all(
    Array.from({ length: 50 }, (_, i) => RawClient.open(port, `${tag}-fo-s${i}`)),
  );
  for (const s of subs) await subscribe(s, "bench/out", 0);
  const pub = await RawClient.open(port, `${tag}-fo-pub`);
  let stop = false;
  flood(pub, publishFrame("bench/out", 0, 0), () => stop);
  const rate = await measure(SECONDS, () => subs.reduce((n, s) => n + s.published, 0));
  stop = true;
  for (const c of [pub, ...subs]) c.close();
  return rate;
}

/** 8 QoS 1 publishers, each with up to 200 unacknowledged, into a persistent QoS 1 subscriber. */
async function qos1FanIn(port: number, tag: string): Promise<number> {
  const sub = await RawClient.open(port, `${tag}-q1-sub`, false);
  await subscribe(sub, "bench/q1", 1);
  const pubs = await Promise.all(
    Array.from({ length: 8 }, (_, i) => RawClient.open(port, `${tag}-q1-p${i}`)),
  );
  let stop = false;
  for (const p of pubs) {
    let id = 0;
    let sent = 0;
    const send = (): void => {
      const frames: Uint8Array[] = [];
      while (!stop && sent - p.acked < 200) {
        id = id === 65535 ? 1 : id + 1;
        frames.push(publishFrame("bench/q1", 1, id));
        sent++;
      }
      if (frames.length > 0) p.write(Buffer.concat(frames));
    };
    p.onAck = () => {
      if (sent - p.acked <= 100) send();
    };
    send();
  }
  const rate = await measure(SECONDS, () => sub.published);
  stop = true;
  await Bun.sleep(200);
  for (const c of [sub, ...pubs]) c.close();
  return rate;
}

interface Load {
  /** Paced loads started paused: starts or stops the load, once the generator says it did. */
  toggle(): Promise<void>;
  /** Stops it: what its sink received per second of load. */
  result(): Promise<number>;
}

/** A load generator in a child process of its own (see `runLoad`), once it is ready. */
async function startLoad(port: number, tag: string, rate: number, paused = false): Promise<Load> {
  const args = ["--load", String(port), tag, String(rate), ...(paused ? ["--paused"] : [])];
  // commands go over stdin, each answered on stdout: signals sent in quick succession can merge
  const proc = Bun.spawn([process.execPath, import.meta.path, ...args], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  /** Waits for `word` on a line of its own, and consumes what came up to it. */
  const readLine = async (word: string): Promise<string> => {
    for (;;) {
      const at = text.indexOf("\n");
      if (at >= 0) {
        const line = text.slice(0, at);
        text = text.slice(at + 1);
        if (line.startsWith(word)) return line;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`load generator exited before "${word}"`);
      text += new TextDecoder().decode(value);
    }
  };
  await readLine("ready");
  return {
    toggle: async () => {
      proc.stdin.write("toggle\n");
      proc.stdin.flush();
      await readLine("toggled");
    },
    result: async () => {
      proc.stdin.write("stop\n");
      proc.stdin.flush();
      const line = await readLine("delivered=");
      await proc.exited;
      const [, n, ms] = /delivered=(\d+) ms=(\d+)/.exec(line) ?? ["", "0", "1"];
      return (Number(n) * 1000) / Math.max(1, Number(ms));
    },
  };
}

/**
 * Ping-pong at `qos` on its own topic while 4 publishers flood another topic into one subscriber.
 * The flood (4 publishers + the sink) runs in a child process of its own, for both brokers alike:
 * in this process its 1 MB chunks and writes would share the probe's event loop, and the figure
 * would be this client's queueing delay (worse the faster the broker delivers), not the broker's.
 */
async function floodedPingPong(broker: Broker, tag: string, qos: number): Promise<[number, number, number]> {
  await quiet(broker);
  const port = broker.port;
  const load = await startLoad(port, tag, 0);
  await Bun.sleep(200);
  const result = await pingPong(port, `${tag}-ld`, qos);
  return [...result, await load.result()];
}

/**
 * The child side of `startLoad`: a sink on `bench/load` and 4 publishers flooding it — as fast as the
 * broker takes it, or at `rate` messages/s in all (paced every millisecond; what a full socket did not
 * take is not made up later, so the offered load never comes in bursts). `paused`: paced load starts
 * only when told (`toggle` on stdin), and each `toggle` then stops or restarts it; `stop` ends it and
 * prints what the sink received and for how many ms the load ran.
 */
async function runLoad(port: number, tag: string, rate: number, paused: boolean): Promise<void> {
  const sink = await RawClient.open(port, `${tag}-ld-sub`);
  await subscribe(sink, "bench/load", 0);
  const pubs = await Promise.all(
    Array.from({ length: 4 }, (_, i) => RawClient.open(port, `${tag}-ld-p${i}`)),
  );
  let stop = false;
  // the broker (or the bench) gone: a load generator must never outlive it
  for (const c of [sink, ...pubs]) c.onClose = () => process.exit(0);
  const frame = publishFrame("bench/load", 0, 0);
  // the load's own time: only while it runs
  let activeMs = 0;
  let since = performance.now();
  let running = !(paused && rate > 0);
  const pacer = rate > 0 ? pace(pubs, frame, rate, () => stop) : null;
  if (pacer !== null) pacer.active = running;
  else for (const p of pubs) flood(p, frame, () => stop);
  let input = "";
  process.stdin.on("data", (chunk: Buffer) => {
    input += chunk.toString();
    for (let at = input.indexOf("\n"); at >= 0; at = input.indexOf("\n")) {
      const command = input.slice(0, at);
      input = input.slice(at + 1);
      if (command === "toggle") {
        // a flood runs throughout: only a paced load stops and starts
        if (pacer !== null) {
          running = !running;
          pacer.active = running;
          if (running) since = performance.now();
          else activeMs += performance.now() - since;
        }
        process.stdout.write("toggled\n");
      } else if (command === "stop") {
        stop = true;
        const ms = Math.round(activeMs + (running ? performance.now() - since : 0));
        process.stdout.write(`delivered=${sink.published} ms=${ms}\n`);
        for (const c of [sink, ...pubs]) c.close();
        process.exit(0);
      }
    }
  });
  process.stdin.on("end", () => process.exit(0)); // the bench is gone
  console.log("ready");
  await new Promise(() => {}); // until told to stop
}

/**
 * `rate` messages/s over the publishers, a due share every millisecond while `active`: what is due is
 * counted from when it last became active, so a pause is not made up in a burst.
 */
function pace(pubs: RawClient[], frame: Uint8Array, rate: number, until: () => boolean): { active: boolean } {
  const state = { active: true };
  let t0 = performance.now();
  let due = 0;
  let next = 0;
  let wasActive = true;
  const timer = setInterval(() => {
    if (until()) {
      clearInterval(timer);
      return;
    }
    if (!state.active) {
      wasActive = false;
      return;
    }
    if (!wasActive) {
      wasActive = true;
      t0 = performance.now();
      due = 0;
    }
    const total = Math.floor(((performance.now() - t0) * rate) / 1000);
    const n = total - due;
    due = total;
    if (n <= 0) return;
    const p = pubs[next++ % pubs.length] as RawClient;
    if (p.backlogged) return; // the broker is not keeping up: this share is not offered
    const batch = new Uint8Array(frame.length * n);
    for (let i = 0; i < n; i++) batch.set(frame, i * frame.length);
    p.write(batch);
  }, 1);
  return state;
}

/** Round trips of one client to itself at `qos` for `ms`, each appended to `samples` (ms). */
async function roundTrips(c: RawClient, qos: number, ms: number, samples: number[]): Promise<void> {
  const frame = publishFrame(`bench/pp${qos}`, qos, 1);
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      c.onPublish = () => resolve();
      c.write(frame);
    });
    samples.push(performance.now() - t0);
  }
}

/** p50 and p99 of samples in ms, in µs. */
function quantiles(samples: number[]): [number, number] {
  const sorted = samples.slice().sort((a, b) => a - b);
  const q = (p: number) => (sorted[Math.floor(sorted.length * p)] ?? 0) * 1000;
  return [q(0.5), q(0.99)];
}

async function pingPong(port: number, tag: string, qos: number): Promise<[number, number]> {
  const c = await RawClient.open(port, `${tag}-pp${qos}`);
  await subscribe(c, `bench/pp${qos}`, qos);
  const samples: number[] = [];
  await roundTrips(c, qos, SECONDS * 1000, samples);
  c.close();
  return quantiles(samples);
}

/**
 * Ping-pong latency at `qos` under the same fixed load (LOAD_RATE into one subscriber) for each
 * broker: each has its load generator and its probe, and the brokers take turns, FIXED_SEGMENTS
 * times, with only the one whose turn it is under load. Per broker: p50 and p99 over all its samples,
 * the load its sink received per second, and the CPU the broker used during its turns (% of a core).
 */
async function fixedLoad(brokers: Broker[], qos: number): Promise<Array<[number, number, number, number]>> {
  for (const b of brokers) await quiet(b);
  const loads = await Promise.all(brokers.map((b, i) => startLoad(b.port, `fx${i}`, LOAD_RATE, true)));
  const probes = await Promise.all(brokers.map((b, i) => RawClient.open(b.port, `fx${i}-pp${qos}`)));
  for (const c of probes) await subscribe(c, `bench/pp${qos}`, qos);
  const samples = brokers.map((): number[] => []);
  const ticks = brokers.map(() => 0);
  const turnMs = brokers.map(() => 0);
  for (let segment = 0; segment < FIXED_SEGMENTS; segment++) {
    // the order turns around every segment: no broker always follows the same one
    const order = brokers.map((_, i) => (segment % 2 === 0 ? i : brokers.length - 1 - i));
    for (const i of order) {
      const broker = brokers[i] as Broker;
      const load = loads[i] as Load;
      await load.toggle();
      await Bun.sleep(SETTLE_MS);
      const c0 = cpuTicks(broker.pid);
      const t0 = performance.now();
      await roundTrips(probes[i] as RawClient, qos, SEGMENT_MS, samples[i] as number[]);
      ticks[i] = (ticks[i] as number) + cpuTicks(broker.pid) - c0;
      turnMs[i] = (turnMs[i] as number) + performance.now() - t0;
      await load.toggle();
      await Bun.sleep(20); // what the load left in flight drains before the next broker's turn
    }
  }
  for (const c of probes) c.close();
  const rates = await Promise.all(loads.map((l) => l.result()));
  return brokers.map((_, i) => {
    const [p50, p99] = quantiles(samples[i] as number[]);
    // clock ticks are 1/100 s: % of a core = ticks * 10 ms / turn ms * 100
    return [p50, p99, rates[i] as number, ((ticks[i] as number) * 1000) / (turnMs[i] as number)];
  });
}

/**
 * Waits until the broker is idle (under 10% of a core for 200 ms; 30 s at most): after a flood, a
 * slower broker is still reading what the flood's publishers left in its sockets' buffers, and would
 * publish it into the next scenario's subscriber while that scenario measures it.
 */
async function quiet(broker: Broker): Promise<void> {
  const end = performance.now() + 30_000;
  while (performance.now() < end) {
    const c0 = cpuTicks(broker.pid);
    await Bun.sleep(200);
    if (cpuTicks(broker.pid) - c0 <= 2) return;
  }
}

/** utime + stime of a process, in clock ticks (1/100 s). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * 2000 idle connections (CONNECT, CONNACK, nothing else): the broker's RSS growth per connection,
 * measured as the slope from 2000 to 4000 open connections. The first 2000 (kept open) pay the
 * process's one-time costs — on Bun, the JIT's optimising tiers compiling the connection path cost
 * ~6 MB (3 kB "per connection" with 2000, nothing per connection after) — which are not memory per
 * connection; freed memory is not reused either, as every connection stays open.
 */
async function idleMemory(broker: Broker, tag: string): Promise<number> {
  const n = 2000;
  const clients: RawClient[] = [];
  const openBatch = async (round: number) => {
    for (let i = 0; i < n; i += 100) {
      const batch = Array.from({ length: Math.min(100, n - i) }, (_, j) =>
        RawClient.open(broker.port, `${tag}-idle-${round}-${i + j}`),
      );
      clients.push(...(await Promise.all(batch)));
    }
    await Bun.sleep(1000); // let the broker settle
    // what the handshakes left is garbage, not memory an idle connection holds: an idle broker's
    // collector would get to it; ask now rather than measure when it happens to run
    await broker.collect?.();
  };
  await openBatch(0);
  const before = rssOf(broker.pid);
  await openBatch(1);
  const after = rssOf(broker.pid);
  for (const c of clients) c.close();
  await Bun.sleep(300);
  return (after - before) / n;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** A new subscriber to `bench/ret/#` receiving 10,000 retained messages: median of several rounds, ms. */
async function retainedDelivery(port: number, tag: string): Promise<number> {
  const count = 10_000;
  const pub = await RawClient.open(port, `${tag}-ret-pub`);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const f = publishFrame(`bench/ret/${i}`, 0, 0);
    f[0] = (f[0] as number) | 1; // RETAIN
    frames.push(f);
  }
  pub.write(Buffer.concat(frames));
  await subscribe(pub, "bench/ret-done", 0); // SUBACK after the PUBLISHes: the broker has them all
  const rounds: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  while (rounds.length < 5 || (performance.now() < end && rounds.length < 200)) {
    const sub = await RawClient.open(port, `${tag}-ret-sub`);
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      sub.onPublish = () => {
        if (sub.published === count) resolve();
      };
      sub.write(subscribeFrame("bench/ret/#", 0));
    });
    rounds.push(performance.now() - t0);
    sub.close();
  }
  // Clear them (empty payload + RETAIN) so later scenarios do not carry them.
  const clears = Array.from({ length: count }, (_, i) => {
    const f = publishFrame(`bench/ret/${i}`, 0, 0, new Uint8Array(0));
    f[0] = (f[0] as number) | 1;
    return f;
  });
  pub.write(Buffer.concat(clears));
  await subscribe(pub, "bench/ret-done", 0);
  pub.close();
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)] ?? 0;
}

interface Broker {
  port: number;
  pid: number;
  stop(): void;
  /** Collects garbage now, where the broker has a collector (ours); resolves once done. */
  collect?(): Promise<void>;
}

async function startOurs(dir: string, busyPoll?: string): Promise<Broker> {
  const server = process.env.HUB_BENCH_SERVER ?? join(import.meta.dir, "../fixtures/hub/bench-server.ts");
  const flags = (process.env.HUB_BENCH_BUN_FLAGS ?? "").split(" ").filter((f) => f !== "");
  const proc = Bun.spawn([process.execPath, ...flags, server, dir, ...(busyPoll ? [busyPoll] : [])], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!/port=(\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("bench server exited");
    text += new TextDecoder().decode(value);
  }
  return {
    port: Number(/port=(\d+)/.exec(text)?.[1]),
    pid: proc.pid,
    stop: () => proc.kill("SIGTERM"),
    collect: async () => {
      proc.kill("SIGUSR2"); // the server runs a full collection
      await Bun.sleep(300);
    },
  };
}

async function startMosquitto(dir: string): Promise<Broker> {
  const port = await freePort();
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\nmax_queued_messages 100000\nmax_inflight_messages 1000\nsys_interval 1\n`,
  );
  const proc = Bun.spawn(["mosquitto", "-c", conf], { stdout: "ignore", stderr: "ignore" });
  for (;;) {
    try {
      (await RawClient.open(port, "probe")).close();
      break;
    } catch {
      await Bun.sleep(20);
    }
  }
  return { port, pid: proc.pid, stop: () => proc.kill() };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hub-bench-"));
  // mosquitto first: when it is missing, nothing of ours is left running
  const mosq = await startMosquitto(dir);
  const ours = await startOurs(join(dir, "hub"));
  // both publish their $SYS statistics every second to a subscriber, for the whole run
  const sysWatchers = [await RawClient.open(ours.port, "oe-sys"), await RawClient.open(mosq.port, "mq-sys")];
  for (const c of sysWatchers) await subscribe(c, "$SYS/#", 0);
  type Row = [string, number, number, "higher" | "lower", string];
  const rows: Row[] = [];
  try {
    const both = async (
      name: string,
      unit: string,
      better: "higher" | "lower",
      f: (port: number, tag: string) => Promise<number>,
    ) => {
      const a = await f(ours.port, "oe");
      const b = await f(mosq.port, "mq");
      rows.push([name, a, b, better, unit]);
    };
    if (selected("memory")) {
      // First, while both brokers are fresh: RSS deltas are noisy once earlier scenarios left garbage.
      rows.push([
        "idle connection (2000), RSS",
        await idleMemory(ours, "oe"),
        await idleMemory(mosq, "mq"),
        "lower",
        "bytes/conn",
      ]);
    }
    if (selected("retained")) await both("10k retained → new subscriber", "ms", "lower", retainedDelivery);
    if (selected("fanin")) await both("qos0 fan-in 8→1", "msg/s", "higher", fanIn);
    if (selected("fanout")) await both("qos0 fan-out 1→50", "deliveries/s", "higher", fanOut);
    if (selected("qos1")) await both("qos1 fan-in 8→1, persistent", "msg/s", "higher", qos1FanIn);
    for (const qos of selected("pingpong") ? [0, 1] : []) {
      const a = await pingPong(ours.port, "oe", qos);
      const b = await pingPong(mosq.port, "mq", qos);
      rows.push([`ping-pong qos${qos} p50`, a[0], b[0], "lower", "µs"]);
      rows.push([`ping-pong qos${qos} p99`, a[1], b[1], "lower", "µs"]);
    }
    for (const qos of selected("loaded") || selected("flood") ? [0, 1] : []) {
      const a = await floodedPingPong(ours, "oe", qos);
      const b = await floodedPingPong(mosq, "mq", qos);
      rows.push([`under 4→1 flood qos${qos} p50`, a[0], b[0], "lower", "µs"]);
      rows.push([`under 4→1 flood qos${qos} p99`, a[1], b[1], "lower", "µs"]);
      rows.push([`  (the flood meanwhile)`, a[2], b[2], "higher", "msg/s"]);
    }
    // the same offered load for each: latency under load compared at equal work, not at each
    // broker's saturation (where the hub moves several times mosquitto's messages meanwhile); a second
    // hub with another `busypoll` (0: its vCPU halts whenever it has nothing to do, and on a VM
    // without halt-polling the next packet waits for the wake-up)
    if (selected("loaded") || selected("fixed")) {
      const other = await startOurs(join(dir, "hub-busypoll"), BUSY_POLL);
      try {
        for (const qos of [0, 1]) {
          const [hub = [], hubBusyPoll = [], them = []] = await fixedLoad([ours, other, mosq], qos);
          for (const [a, label] of [
            [hub, ""],
            [hubBusyPoll, `, busypoll ${BUSY_POLL}`],
          ] as const) {
            const [a50 = 0, a99 = 0, aRate = 0, aCpu = 0] = a;
            const [b50 = 0, b99 = 0, bRate = 0, bCpu = 0] = them;
            const name = `under ${LOAD_RATE / 1000}k msg/s qos${qos}`;
            rows.push([`${name} p50${label}`, a50, b50, "lower", "µs"]);
            rows.push([`${name} p99${label}`, a99, b99, "lower", "µs"]);
            rows.push([`  (the load delivered)`, aRate, bRate, "higher", "msg/s"]);
            rows.push([`  (broker CPU meanwhile)`, aCpu, bCpu, "lower", "% core"]);
          }
        }
      } finally {
        other.stop();
      }
    }
  } finally {
    for (const c of sysWatchers) c.close();
    ours.stop();
    mosq.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1));
  console.log(`\nhub vs mosquitto (${SECONDS}s per scenario; ratio > 1 means the hub is better)\n`);
  const width = Math.max(32, ...rows.map(([name]) => name.length + 2));
  console.log(
    `${"scenario".padEnd(width)}${"hub".padStart(12)}${"mosquitto".padStart(12)}${"ratio".padStart(8)}  unit`,
  );
  for (const [name, a, b, better, unit] of rows) {
    const ratio = better === "higher" ? a / b : b / a;
    console.log(
      `${name.padEnd(width)}${fmt(a).padStart(12)}${fmt(b).padStart(12)}${ratio.toFixed(2).padStart(8)}  ${unit}`,
    );
  }
}

const loadAt = process.argv.indexOf("--load");
if (loadAt >= 0)
  await runLoad(
    Number(process.argv[loadAt + 1]),
    process.argv[loadAt + 2] ?? "load",
    Number(process.argv[loadAt + 3] ?? 0),
    process.argv.includes("--paused"),
  );
else await main();
process.exit(0);
