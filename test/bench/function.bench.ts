// Function figures of the compiled executable: one master running a hub, the function manager, a Python
// and a JavaScript echo function. Invocations per second and p50/p99 latency publish → function →
// subscriber for JavaScript and Python, QoS 0 and 1, one call at a time against a function with one
// instance and 8 in flight against one with `max` instances; each next to the same path without a
// function — a hub route (`subscriptions` in the hub's service.yml) — measured in the same run. Then the
// cold start of an instance (first call once the pool is empty; instance start → socket accepting, as
// the pool logs it) next to a bare python3 start, and the RSS of an instance next to an idle python3.
// MQTT client: the `mqtt` npm package (one publishing and one subscribing connection); the hub-route
// rows show what the client, the hub and the machine allow, so they bound every function row. Then
// the runtime call alone (the manager's client → an instance's socket, no hub), which is what the
// OpenEdge 0.1.5 anchor measured, and the whole path again on a master whose hub, manager and runtimes
// have `busypoll` set to FUNCTION_BENCH_BUSYPOLL (0 by default: the defaults poll adaptively after
// traffic, this shows what that buys and costs).
// Run: bun test/bench/function.bench.ts [path] [pathpoll] [alone] [cold]   (all by default; no assertions)
// python3: $BENCH_PYTHON3, else Debian's /usr/bin/python3 (what a gateway runs), else the one on PATH.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { stringify } from "yaml";
import { functionApplication, volumeWriter } from "../e2e/function-app.ts";
import type { RunningMaster } from "../e2e/harness.ts";
import { pidsWithEnv } from "../e2e/procs.ts";
import { ensureBuilt, spawnMaster } from "./bench-support.ts";
import { type AloneCell, canPin, measureRuntimeAlone } from "./function-runtime-alone.ts";

const PARTS = process.argv.slice(2);
const part = (name: "path" | "pathpoll" | "alone" | "cold") => PARTS.length === 0 || PARTS.includes(name);

/** Messages per measured cell (after WARMUP), unless CELL_MS runs out first. */
const MESSAGES = 3000;
const WARMUP = 200;
const CELL_MS = 3000;
const IN_FLIGHT = 8;
const MAX_INSTANCES = 4;
/** The `busypoll` of the rows that compare with the default (the caller's and the instances'). */
const BUSY_POLL = process.env.FUNCTION_BENCH_BUSYPOLL ?? "0";
const COLD_RUNS = 5;
const MARKER = "OPENEDGE_BENCH_FUNCTION";

type LogLine = { msg: string; [key: string]: unknown };

/**
 * The interpreter to measure, resolved to its real path (a pyenv shim or a wrapper script would add its
 * own start time). A pyenv interpreter may run .pth hooks at every start (this workplace's imports
 * certifi, ~40 ms), which is why the system one is preferred.
 */
function realPython(): string {
  const named =
    process.env.BENCH_PYTHON3 ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
  const r = Bun.spawnSync([named, "-c", "import sys; print(sys.executable)"], { stdout: "pipe" });
  const path = r.stdout.toString().trim();
  if (r.exitCode !== 0 || path === "") throw new Error("python3 is required");
  return path;
}

const PY = `
def echo(event, context):
    return event
`;
const JS = "exports.echo = (event) => event;\n";

/** name → [runtime, max instances, min instances, idletime] */
const FUNCTIONS: Record<string, ["py" | "js", number, number, string]> = {
  py1: ["py", 1, 1, "10m"],
  pyN: ["py", MAX_INSTANCES, 1, "10m"],
  js1: ["js", 1, 1, "10m"],
  jsN: ["js", MAX_INSTANCES, 1, "10m"],
  pycold: ["py", 1, 0, "100ms"],
  jscold: ["js", 1, 0, "100ms"],
};

/** With `busyPoll`, the hub, the function manager and both runtimes get that `busypoll`. */
function makeWorkDir(tmp: string, python: string, busyPoll?: string): string {
  const wd = join(tmp, busyPoll === undefined ? "wd" : "wd-busypoll");
  const polling = busyPoll === undefined ? {} : { busypoll: busyPoll };
  const v = join(wd, "var/db/openedge");
  const write = volumeWriter(wd);
  mkdirSync(join(wd, "etc/openedge"), { recursive: true });
  writeFileSync(join(wd, "etc/openedge/openedge.yml"), "grace: 2s\nlogger:\n  level: info\n");
  write(
    "hub-conf/service.yml",
    stringify({
      listen: ["tcp://127.0.0.1:0"],
      anonymous: true,
      subscriptions: [{ source: { topic: "in/route", qos: 1 }, target: { topic: "out/route", qos: 1 } }],
      ...polling,
    }),
  );
  const names = Object.keys(FUNCTIONS);
  write(
    "fm-conf/service.yml",
    stringify({
      hub: { address: "tcp://127.0.0.1:1883" },
      rules: names.map((n) => ({
        clientid: `r-${n}`,
        subscribe: { topic: `in/${n}`, qos: 1 },
        function: { name: n },
        publish: { topic: `out/${n}`, qos: 1 },
      })),
      functions: names.map((n) => {
        const [rt, max, min, idletime] = FUNCTIONS[n] as [string, number, number, string];
        return { name: n, service: `fn-${rt}`, instance: { min, max, idletime } };
      }),
      ...polling,
    }),
  );
  const codedir = (name: string) => `var/db/openedge/${name}`;
  for (const rt of ["py", "js"] as const) {
    write(
      `${rt}-conf/service.yml`,
      stringify({
        functions: names
          .filter((n) => FUNCTIONS[n]?.[0] === rt)
          .map((n) => ({ name: n, handler: "handlers.echo", codedir: codedir(`${rt}-code`) })),
        ...polling,
      }),
    );
  }
  write("py-code/handlers.py", PY);
  write("js-code/handlers.js", JS);
  writeFileSync(
    join(v, "application.yml"),
    stringify(functionApplication({ js: true, pyEnv: { OPENEDGE_PYTHON3: python } })),
  );

  return wd;
}

const msg = (name: string) => (l: LogLine) => l.msg === name;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

interface Cell {
  rate: number;
  p50: number;
  p99: number;
  n: number;
}

/** Routes each output to the sender waiting for its sequence number. */
class Receiver {
  private readonly pending = new Map<number, () => void>();
  constructor(client: MqttClient) {
    client.on("message", (_topic, payload) => {
      const seq = (JSON.parse(String(payload)) as { s: number }).s;
      const done = this.pending.get(seq);
      this.pending.delete(seq);
      done?.();
    });
  }
  expect(seq: number): Promise<void> {
    return new Promise((resolve) => this.pending.set(seq, resolve));
  }
}

let seqCounter = 0;

/** `window` senders, each publishing and awaiting its output in turn, until the budget is spent. */
async function measure(
  pub: MqttClient,
  rx: Receiver,
  topic: string,
  qos: 0 | 1,
  window: number,
): Promise<Cell> {
  const latencies: number[] = [];
  let sent = 0;
  let started = 0;
  let deadline = Number.POSITIVE_INFINITY;
  let t0 = 0;
  const one = async (record: boolean) => {
    const seq = seqCounter++;
    const got = rx.expect(seq);
    const t = performance.now();
    pub.publish(topic, `{"s":${seq},"pad":"0123456789abcdef"}`, { qos });
    await got;
    if (record) latencies.push((performance.now() - t) * 1000);
  };
  const sender = async () => {
    while (sent < WARMUP) {
      sent++;
      await one(false);
    }
    if (started === 0) {
      started = 1;
      t0 = performance.now();
      deadline = t0 + CELL_MS;
    }
    while (sent < WARMUP + MESSAGES && performance.now() < deadline) {
      sent++;
      await one(true);
    }
  };
  await Promise.all(Array.from({ length: window }, sender));
  const ms = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return {
    rate: (latencies.length / ms) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    n: latencies.length,
  };
}

function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/**
 * Pages only this process holds (USS: Private_Clean + Private_Dirty): what one more instance costs.
 * RSS also counts pages shared with others — for a JavaScript instance, most of its RSS is the
 * executable's code, shared with the master and every other instance through the page cache.
 */
function ussKiB(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(text)?.[1] ?? Number.NaN);
    return field("Private_Clean") + field("Private_Dirty");
  } catch {
    return Number.NaN;
  }
}

function instanceMemory(name: string): { rss: number; uss: number } {
  const pids = pidsWithEnv("OPENEDGE_SERVICE_INSTANCE_NAME", name);
  return {
    rss: pids.reduce((sum, pid) => sum + rssKiB(pid), 0),
    uss: pids.reduce((sum, pid) => sum + ussKiB(pid), 0),
  };
}

async function spawnMs(argv: string[]): Promise<number> {
  const t = performance.now();
  await Bun.spawn(argv, { stdout: "ignore", stderr: "ignore" }).exited;
  return performance.now() - t;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Cold call: the pool of `fn` is empty; publish, wait for the output, then wait for the eviction. */
async function coldStarts(master: RunningMaster, pub: MqttClient, rx: Receiver, fn: string) {
  const call: number[] = [];
  const ready: number[] = [];
  const engine: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const from = master.lines.length;
    const seq = seqCounter++;
    const got = rx.expect(seq);
    const t = performance.now();
    pub.publish(`in/${fn}`, `{"s":${seq}}`, { qos: 0 });
    await got;
    call.push(performance.now() - t);
    const line = await master.waitUntil(
      (l) => l.msg === "function_instance_ready" && l.function === fn,
      from,
    );
    ready.push(Number(line.ms));
    engine.push(Number(line.engineMs));
    await master.waitUntil((l) => l.msg === "function_instance_evicted" && l.function === fn, from);
    // the stop completes after the eviction line; the next cold start must find the id free again
    const name = `fn-${fn.slice(0, 2)}.${fn}.0`;
    while (pidsWithEnv("OPENEDGE_SERVICE_INSTANCE_NAME", name).length > 0) await Bun.sleep(5);
  }
  return { call: median(call), ready: median(ready), engine: median(engine) };
}

const ANCHOR = { one: 3400, eight: 6300, coldMs: 80 };

const h2 = (a: string, b: string, c: string, d: string) =>
  console.log(`${a.padEnd(58)} ${b.padStart(10)} ${c.padStart(22)} ${d.padStart(8)}`);

/** Function rows next to the hub route, QoS 0 and 1, one call at a time and IN_FLIGHT. */
async function wholePath(pub: MqttClient, rx: Receiver, title: string): Promise<Record<string, Cell>> {
  const rows: string[][] = [];
  const cells: Record<string, Cell> = {};
  for (const qos of [0, 1] as const) {
    for (const window of [1, IN_FLIGHT]) {
      const route = await measure(pub, rx, "in/route", qos, window);
      cells[`route/${qos}/${window}`] = route;
      for (const rt of ["js", "py"] as const) {
        const fn = `${rt}${window === 1 ? "1" : "N"}`;
        const c = await measure(pub, rx, `in/${fn}`, qos, window);
        cells[`${rt}/${qos}/${window}`] = c;
        const label = `${rt === "js" ? "JavaScript" : "Python"} QoS ${qos}, ${window} in flight, max ${window === 1 ? 1 : MAX_INSTANCES}`;
        rows.push([
          label,
          `${(c.rate / 1000).toFixed(2)}k/s`,
          `${(c.p50 / 1000).toFixed(2)}`,
          `${(c.p99 / 1000).toFixed(2)}`,
          `${(route.rate / 1000).toFixed(2)}k/s`,
          `${(route.p50 / 1000).toFixed(2)}`,
          `${(route.p99 / 1000).toFixed(2)}`,
          (c.rate / route.rate).toFixed(2),
        ]);
      }
    }
  }
  const head = [title, "function", "p50", "p99", "hub route", "p50", "p99", "ratio"];
  const widths = [40, 10, 7, 7, 10, 7, 7, 6];
  const print = (r: string[]) =>
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" "));
  print(head);
  for (const r of rows) print(r);
  console.log("");
  return cells;
}

/** The runtime call alone, as the anchor measured it: one at a time, and IN_FLIGHT over 1 and MAX_INSTANCES. */
async function runtimeAlone(tmp: string, bin: string, python: string): Promise<void> {
  h2("runtime call alone (no hub)", "calls/s", "p50 / p99 µs", "× anchor");
  // one at a time, each call crosses CPUs twice, and on this VM a wake-up of an idle vCPU costs ~100
  // µs: the defaults poll for the next call or answer instead (busypoll). The same cells are measured
  // with BUSY_POLL, and one at a time with caller and instance on one CPU (resources.cpu.setcpus)
  // not polling, where a wake-up is only a context switch.
  type Cell = [instances: number, window: number, cpu: number | undefined, busyPoll?: string];
  const cells: Cell[] = [
    [1, 1, undefined],
    [1, 1, undefined, BUSY_POLL],
    ...(canPin ? [[1, 1, 0, "0"] as Cell] : []),
    [1, IN_FLIGHT, undefined],
    [MAX_INSTANCES, IN_FLIGHT, undefined],
    [MAX_INSTANCES, IN_FLIGHT, undefined, BUSY_POLL],
  ];
  // each cell for both runtimes back to back: this VM's speed drifts over a run, so rows measured
  // seconds apart compare the runtimes better than halves of the table measured a minute apart
  for (const [instances, window, cpu, busyPoll] of cells) {
    for (const rt of ["py", "js"] as const) {
      const c: AloneCell = await measureRuntimeAlone({
        rt,
        instances,
        window,
        ms: CELL_MS,
        dir: join(tmp, `alone-${rt}-${instances}-${window}-${cpu ?? "any"}-${busyPoll ?? "default"}`),
        bin,
        python,
        ...(cpu === undefined ? {} : { cpu }),
        ...(busyPoll === undefined ? {} : { busyPoll }),
      });
      const anchor = window === 1 ? ANCHOR.one : ANCHOR.eight;
      h2(
        `${rt === "js" ? "JavaScript" : "Python"}, ${window} in flight, ${instances} instance(s)${cpu === undefined ? "" : ", one CPU"}${busyPoll === undefined ? "" : `, busypoll ${busyPoll}`}`,
        `${(c.rate / 1000).toFixed(2)}k/s`,
        `${c.p50.toFixed(0)} / ${c.p99.toFixed(0)}`,
        (c.rate / anchor).toFixed(2),
      );
    }
  }
  console.log("");
}

/** Cold starts (an empty pool's first call; instance start → accepting) and RSS per instance. */
async function coldAndMemory(
  master: RunningMaster,
  pub: MqttClient,
  rx: Receiver,
  bin: string,
  python: string,
): Promise<void> {
  const pyNames = master.lines
    .filter((l) => l.msg === "function_instance_ready" && String(l.instance).startsWith("fn-py.py1."))
    .map((l) => String(l.instance));
  const py = instanceMemory(pyNames[0] ?? "fn-py.py1.0");
  const js = instanceMemory("fn-js.js1.0");
  const pyCold = await coldStarts(master, pub, rx, "pycold");
  const jsCold = await coldStarts(master, pub, rx, "jscold");

  // references: a bare interpreter start and an idle interpreter's RSS, the executable's own start
  const pyBareRuns: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) pyBareRuns.push(await spawnMs([python, "-c", "pass"]));
  const pyBare = median(pyBareRuns);
  const exeBare: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) exeBare.push(await spawnMs([bin, "version"]));
  const idle = Bun.spawn([python, "-c", "import sys; sys.stdin.read()"], { stdin: "pipe" });
  await Bun.sleep(300);
  const idleRss = rssKiB(idle.pid);
  idle.kill();

  h2("cold start and memory", "value", "reference", "ratio");
  h2(
    "Python cold call, empty pool (ms)",
    pyCold.call.toFixed(1),
    `${ANCHOR.coldMs} (anchor cold start)`,
    (pyCold.call / ANCHOR.coldMs).toFixed(2),
  );
  h2(
    "Python instance start → accepting (ms)",
    pyCold.ready.toFixed(1),
    `${pyBare.toFixed(1)} (python3 -c pass)`,
    (pyCold.ready / pyBare).toFixed(2),
  );
  h2("  of which the engine starting the process (ms)", pyCold.engine.toFixed(1), "-", "-");
  h2(
    "JavaScript cold call, empty pool (ms)",
    jsCold.call.toFixed(1),
    `${ANCHOR.coldMs} (anchor cold start)`,
    (jsCold.call / ANCHOR.coldMs).toFixed(2),
  );
  h2(
    "JavaScript instance start → accepting (ms)",
    jsCold.ready.toFixed(1),
    `${median(exeBare).toFixed(1)} (exe version)`,
    (jsCold.ready / median(exeBare)).toFixed(2),
  );
  h2(
    "RSS per Python instance (MiB)",
    (py.rss / 1024).toFixed(1),
    `${(idleRss / 1024).toFixed(1)} (idle python3)`,
    (py.rss / idleRss).toFixed(2),
  );
  h2("  of which only its own (USS, MiB)", (py.uss / 1024).toFixed(1), "-", "-");
  h2("RSS per JavaScript instance (MiB)", (js.rss / 1024).toFixed(1), "-", "-");
  h2("  of which only its own (USS, MiB)", (js.uss / 1024).toFixed(1), "-", "-");
  console.log("");
}

async function main(): Promise<void> {
  const bin = ensureBuilt();
  const python = realPython();
  const tmp = mkdtempSync(join(tmpdir(), "oe-bench-fn-"));
  console.log(
    `python3: ${python}; MQTT client: the mqtt npm package, one publishing and one subscribing connection.\n`,
  );
  try {
    if (part("alone")) await runtimeAlone(tmp, bin, python);
    if (part("path") || part("cold")) await withMaster(tmp, bin, python);
    if (part("pathpoll")) await withMaster(tmp, bin, python, BUSY_POLL);
    console.log(
      [
        "Anchor, OpenEdge 0.1.5's Python runtime (gRPC) on this kind of machine, the runtime call alone:",
        "3.4k calls/s one at a time (p50 0.28 ms), 6.3k calls/s with 8 in flight; cold start 80 ms; 35 MB",
        "RSS per instance. Goal: 2x those call rates, cold start <= 40 ms, <= 15 MB RSS per instance.",
        "The whole-path rows add the hub and MQTT on both sides (four process wake-ups per call here).",
      ].join("\n"),
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The whole path and cold starts on one master; with `busyPoll` (hub and runtimes), the whole path only. */
async function withMaster(tmp: string, bin: string, python: string, busyPoll?: string): Promise<void> {
  const wd = makeWorkDir(tmp, python, busyPoll);
  const master = spawnMaster(bin, wd, { [MARKER]: wd });
  let pub: MqttClient | undefined;
  let sub: MqttClient | undefined;
  try {
    const ready = await master.waitUntil(msg("hub_ready"));
    const port = (ready.listeners as { port: number }[])[0]?.port;
    await master.waitUntil(msg("function_manager_ready"));
    const url = `mqtt://127.0.0.1:${port}`;
    pub = await mqtt.connectAsync(url, { clientId: "bench-pub", reconnectPeriod: 0 });
    sub = await mqtt.connectAsync(url, { clientId: "bench-sub", reconnectPeriod: 0 });
    const rx = new Receiver(sub);
    await sub.subscribeAsync(
      ["route", ...Object.keys(FUNCTIONS)].map((n) => `out/${n}`),
      { qos: 1 },
    );
    if (busyPoll !== undefined) {
      await wholePath(pub, rx, `whole path, busypoll ${busyPoll} (ms)`);
      return;
    }
    if (part("path")) await wholePath(pub, rx, "whole path (ms: p50, p99)");
    if (part("cold")) await coldAndMemory(master, pub, rx, bin, python);
  } finally {
    await pub?.endAsync();
    await sub?.endAsync();
    master.proc.kill("SIGTERM");
    await master.proc.exited;
    for (const pid of pidsWithEnv(MARKER, wd)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
}

await main();
