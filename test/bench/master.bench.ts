// Master figures of the compiled executable with native services, each next to a reference measured in
// the same run: idle RSS with 10 services vs an empty application, crash → running latency vs the
// 1 s backoff floor, inspect latency with 50 instances vs a trivial endpoint on the same socket, and a
// one-service update of a 20-service application vs updating all 20 (and vs a full stop + start).
// Run: bun test/bench/master.bench.ts   (no assertions on timings)

import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { RunningMaster } from "../e2e/harness.ts";
import { ensureBuilt, spawnMaster } from "./bench-support.ts";

const _root = join(import.meta.dir, "../..");
const IDLE_MS = 2000;
const CRASHES = 5;
const INSPECT_CALLS = 200;
/** The updater's stability window (src/master/master.ts wires healthyMs = 3 s). */
const HEALTHY_MS = 3000;
/** Every process a bench master starts carries this variable; cleanup kills by it. */
const MARKER = "OPENEDGE_BENCH_MASTER";

interface ServiceDef {
  name: string;
  replica?: number;
  env?: Record<string, string>;
  backoffMin?: string;
}

interface InstanceView {
  name: string;
  status: string;
  pid?: number;
  start_time: string | null;
  limits?: { enforced: boolean; via: string };
}

interface InspectView {
  services: { name: string; instances: InstanceView[] }[];
}

type LogLine = { msg: string; [key: string]: unknown };

/** A work dir: short grace, one package (`exec sleep 1000`) mounted into every service, the application. */
function makeWorkDir(tmp: string, name: string, services: readonly ServiceDef[]): string {
  const wd = join(tmp, name);
  mkdirSync(join(wd, "etc/openedge"), { recursive: true });
  writeFileSync(join(wd, "etc/openedge/openedge.yml"), "grace: 2s\nlogger:\n  level: info\n");
  const pkg = join(wd, "var/db/openedge/pkgs/sleeper");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, "package.yml"), "entry: run.sh\n");
  writeFileSync(join(pkg, "run.sh"), "#!/bin/sh\nexec sleep 1000\n");
  chmodSync(join(pkg, "run.sh"), 0o755);
  writeFileSync(join(wd, "var/db/openedge/application.yml"), applicationYaml(services, "v1"));
  return wd;
}

function applicationYaml(services: readonly ServiceDef[], version: string): string {
  return stringify({
    version,
    services: services.map((s) => ({
      name: s.name,
      image: "sleeper",
      replica: s.replica ?? 1,
      ...(s.env ? { env: s.env } : {}),
      restart: { policy: "always", backoff: { min: s.backoffMin ?? "1s", max: "10s" } },
      mounts: [{ name: "pkg", path: "lib/openedge/sleeper", readonly: true }],
    })),
    volumes: services.length > 0 ? [{ name: "pkg", path: "var/db/openedge/pkgs/sleeper" }] : [],
  });
}

function named(prefix: string, n: number, extra: Omit<ServiceDef, "name"> = {}): ServiceDef[] {
  return Array.from({ length: n }, (_, i) => ({ name: `${prefix}${String(i).padStart(2, "0")}`, ...extra }));
}

/** A master started in a work dir: its JSON log lines (stdout and stderr drained) and its API. */
/** A master under test: its log lines (RunningMaster) plus the operator's API calls. */
class Master {
  private readonly run: RunningMaster;
  private token = "";

  constructor(
    bin: string,
    readonly wd: string,
  ) {
    this.run = spawnMaster(bin, wd, { [MARKER]: wd });
  }

  get lines(): LogLine[] {
    return this.run.lines;
  }

  get proc(): RunningMaster["proc"] {
    return this.run.proc;
  }

  count(msg: string): number {
    return this.lines.filter((l) => l.msg === msg).length;
  }

  /** Waits until `count` log lines named `msg` have been seen (polling the buffer, not the master). */
  async waitLines(msg: string, count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.count(msg) < count) {
      if (this.proc.exitCode !== null) throw new Error(`master exited (${this.proc.exitCode}) before ${msg}`);
      if (performance.now() > deadline) throw new Error(`no ${count}× "${msg}" within ${timeoutMs} ms`);
      await Bun.sleep(5);
    }
  }

  async ready(): Promise<void> {
    await this.waitLines("master_ready", 1);
    this.token = readFileSync(join(this.wd, "var/run/openedge/admin.token"), "utf8").trim();
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const init: RequestInit & { unix: string } = {
      method,
      unix: join(this.wd, "var/run/openedge.sock"),
      headers: { "x-openedge-username": "openedge-admin", "x-openedge-password": this.token },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    };
    const res = await fetch(`http://localhost${path}`, init);
    return { status: res.status, text: await res.text() };
  }

  async inspect(): Promise<InspectView> {
    const r = await this.call("GET", "/v1/system/inspect");
    if (r.status !== 200) throw new Error(`inspect answered ${r.status}: ${r.text}`);
    return JSON.parse(r.text) as InspectView;
  }

  /** SIGTERM, then SIGKILL after 10 s; never throws. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGTERM");
    const killer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
    await this.proc.exited;
    clearTimeout(killer);
  }
}

/** Live processes started under this run's masters (which a SIGKILLed master may leave behind). */
function markedPids(tmp: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
      if (env.some((e) => e.startsWith(`${MARKER}=${tmp}/`))) out.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function procStatusKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
}

function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
}

const median = (values: readonly number[]) => quantile(values, 0.5);

function allRunning(view: InspectView, services: number, instances: number): boolean {
  const all = view.services.flatMap((s) => s.instances);
  return (
    view.services.length === services &&
    all.length === instances &&
    all.every((i) => i.status === "running" && i.pid !== undefined)
  );
}

async function until<T>(
  what: string,
  probe: () => Promise<T>,
  done: (v: T) => boolean,
  ms = 30_000,
): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

type Row = [label: string, value: string, reference: string, ratio: string];
const rows: Row[] = [];
const notes: string[] = [];
const masters: Master[] = [];

function start(bin: string, wd: string): Master {
  const m = new Master(bin, wd);
  masters.push(m);
  return m;
}

/** 1. Idle RSS: each master idles IDLE_MS after its last instance started, with no API calls. */
async function idleRss(bin: string, tmp: string): Promise<void> {
  const sample = async (name: string, services: ServiceDef[]) => {
    const m = start(bin, makeWorkDir(tmp, name, services));
    await m.ready();
    await m.waitLines("instance_started", services.length);
    await Bun.sleep(IDLE_MS);
    const out = { rss: procStatusKiB(m.proc.pid, "VmRSS"), hwm: procStatusKiB(m.proc.pid, "VmHWM"), m };
    return out;
  };
  const empty = await sample("idle-empty", []);
  // after the RSS sample: inspect of an empty application, to split figure 3 into host and instances
  emptyInspectP50 = median((await apiLatencies(empty.m, INSPECT_CALLS / 2)).inspect);
  await empty.m.stop();
  const ten = await sample("idle-10", named("svc", 10));
  await ten.m.stop();
  // a third size separates the marginal cost of a service from one-time warm-up (first spawn, JIT)
  const thirty = await sample("idle-30", named("svc", 30));
  await thirty.m.stop();
  const mib = (kib: number) => (kib / 1024).toFixed(1);
  rows.push([
    `master VmRSS idle ${IDLE_MS / 1000}s: 10 native svcs vs empty app (MiB)`,
    mib(ten.rss),
    mib(empty.rss),
    (ten.rss / empty.rss).toFixed(2),
  ]);
  rows.push([
    "master VmHWM, same runs (MiB)",
    mib(ten.hwm),
    mib(empty.hwm),
    (ten.hwm / empty.hwm).toFixed(2),
  ]);
  notes.push(
    `per native service: ${((ten.rss - empty.rss) / 10).toFixed(0)} KiB RSS, ` +
      `${((ten.hwm - empty.hwm) / 10).toFixed(0)} KiB peak, averaged over 10; from 10 to 30 services ` +
      `${((thirty.rss - ten.rss) / 20).toFixed(0)} KiB RSS, ${((thirty.hwm - ten.hwm) / 20).toFixed(0)} KiB peak each`,
  );
}

/**
 * 2. Crash → running: the supervisor resets backoff only after a 60 s stable run, so a second crash of
 * the same instance would wait 2 s; each sample kills a different service's instance once instead.
 */
async function crashToRunning(bin: string, tmp: string): Promise<void> {
  const services = named("crash", CRASHES, { backoffMin: "1s" });
  const m = start(bin, makeWorkDir(tmp, "crash", services));
  await m.ready();
  await until(
    "crash services running",
    () => m.inspect(),
    (v) => allRunning(v, CRASHES, CRASHES),
  );
  const measured: number[] = [];
  const scheduled: number[] = [];
  for (const svc of services) {
    const before = (await m.inspect()).services.find((s) => s.name === svc.name)?.instances[0];
    if (before?.pid === undefined) throw new Error(`${svc.name} has no pid`);
    const t0 = performance.now();
    process.kill(before.pid, "SIGKILL");
    await until(
      `${svc.name} back`,
      () => m.inspect(),
      (v) => {
        const i = v.services.find((s) => s.name === svc.name)?.instances[0];
        return i?.status === "running" && i.pid !== undefined && i.pid !== before.pid;
      },
      10_000,
    );
    measured.push(performance.now() - t0);
    const line = m.lines.find((l) => l.msg === "instance_restart_scheduled" && l.service === svc.name);
    if (typeof line?.delay_ms === "number") scheduled.push(line.delay_ms);
  }
  await m.stop();
  rows.push([
    `crash (kill -9) → running in inspect, median of ${CRASHES} (ms) vs backoff.min`,
    median(measured).toFixed(0),
    "1000",
    (median(measured) / 1000).toFixed(2),
  ]);
  const over = measured.map((t, i) => t - (scheduled[i] ?? Number.NaN));
  notes.push(
    `crash samples ${measured.map((t) => t.toFixed(0)).join(", ")} ms; scheduled delays (±10 % jitter) ` +
      `${scheduled.join(", ")} ms; median beyond the scheduled delay ${median(over).toFixed(0)} ms ` +
      "(includes the ~10 ms poll and one inspect call)",
  );
}

let emptyInspectP50 = Number.NaN;

/** `calls` interleaved GET inspect / GET ports/available round trips (after 10 of each to warm up). */
async function apiLatencies(m: Master, calls: number): Promise<{ inspect: number[]; ports: number[] }> {
  const time = async (path: string) => {
    const t0 = performance.now();
    const r = await m.call("GET", path);
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`${path} answered ${r.status}: ${r.text}`);
    return ms;
  };
  const inspect: number[] = [];
  const ports: number[] = [];
  for (let i = -10; i < calls; i++) {
    const a = await time("/v1/system/inspect");
    const b = await time("/v1/ports/available");
    if (i >= 0) inspect.push(a);
    if (i >= 0) ports.push(b);
  }
  return { inspect, ports };
}

/** 3. Inspect with 50 instances vs GET /v1/ports/available on the same socket, calls interleaved. */
async function inspectLatency(bin: string, tmp: string): Promise<void> {
  const m = start(bin, makeWorkDir(tmp, "inspect", named("rep", 5, { replica: 10 })));
  await m.ready();
  await until(
    "50 instances running",
    () => m.inspect(),
    (v) => allRunning(v, 5, 50),
  );
  const first = (await m.inspect()).services[0]?.instances[0];
  const { inspect, ports } = await apiLatencies(m, INSPECT_CALLS);
  await m.stop();
  for (const [q, name] of [
    [0.5, "p50"],
    [0.99, "p99"],
  ] as const) {
    rows.push([
      `GET inspect, 50 instances, ${name} of ${INSPECT_CALLS} (ms) vs ports/available`,
      quantile(inspect, q).toFixed(2),
      quantile(ports, q).toFixed(2),
      (quantile(inspect, q) / quantile(ports, q)).toFixed(1),
    ]);
  }
  const limits = first?.limits;
  notes.push(
    `inspect p50 with an empty application ${emptyInspectP50.toFixed(2)} ms → ` +
      `${((median(inspect) - emptyInspectP50) / 50).toFixed(3)} ms per instance; instances' limits ` +
      `enforced=${limits?.enforced} via=${limits?.via}; ${readdirSync("/proc").filter((n) => /^\d+$/.test(n)).length} ` +
      "processes on the host",
  );
}

/**
 * 4. Updates of a 20-service application. Both updates run the same path and wait the same 3 s for
 * the services they (re)start, so updating all 20 is the fair reference: the ratio shows what restarting
 * only the changed service saves. A full `openedge stop` + `start`, timed until all 20 instances have run
 * for the same 3 s (from their start_time in inspect), is shown as a second reference.
 */
async function updates(bin: string, tmp: string): Promise<void> {
  const base = named("app", 20);
  const wd = makeWorkDir(tmp, "update", base);
  let m = start(bin, wd);
  await m.ready();
  await until(
    "20 services running",
    () => m.inspect(),
    (v) => allRunning(v, 20, 20),
  );
  const update = async (version: string, services: ServiceDef[]) => {
    const path = join(wd, `application-${version}.yml`);
    writeFileSync(path, applicationYaml(services, version));
    const t0 = performance.now();
    const r = await m.call("PUT", "/v1/system/update", { type: "APP", path, trace: `bench-${version}` });
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`update ${version} answered ${r.status}: ${r.text}`);
    return ms;
  };
  const one = await update(
    "v2",
    base.map((s, i) => (i === 7 ? { ...s, env: { GEN: "2" } } : s)),
  );
  const all = await update(
    "v3",
    base.map((s) => ({ ...s, env: { GEN: "3" } })),
  );

  const t0 = Date.now();
  const stop = Bun.spawn([bin, "stop", "-w", wd], { stdout: "ignore", stderr: "inherit" });
  if ((await stop.exited) !== 0) throw new Error("openedge stop failed");
  const stoppedMs = Date.now() - t0;
  await m.proc.exited;
  m = start(bin, wd);
  await m.ready();
  const view = await until(
    "20 services running again",
    () => m.inspect(),
    (v) => allRunning(v, 20, 20),
  );
  const instances = view.services.flatMap((s) => s.instances);
  const lastStart = Math.max(...instances.map((i) => Date.parse(i.start_time ?? "")));
  await Bun.sleep(Math.max(0, lastStart + HEALTHY_MS - Date.now()));
  const after = await m.inspect();
  const same = after.services
    .flatMap((s) => s.instances)
    .every((i) => i.status === "running" && instances.some((b) => b.pid === i.pid));
  if (!same) throw new Error("an instance restarted during the 3 s after the full restart");
  const restart = lastStart + HEALTHY_MS - t0;
  await m.stop();

  rows.push([
    "update 1 of 20 svcs (ms) vs update of all 20 (both wait 3 s)",
    one.toFixed(0),
    all.toFixed(0),
    (one / all).toFixed(2),
  ]);
  rows.push([
    "update 1 of 20 svcs (ms) vs stop+start, 20 running 3 s",
    one.toFixed(0),
    restart.toFixed(0),
    (one / restart).toFixed(2),
  ]);
  notes.push(
    `beyond the ${HEALTHY_MS} ms stability wait: update of 1 ${(one - HEALTHY_MS).toFixed(0)} ms, ` +
      `of 20 ${(all - HEALTHY_MS).toFixed(0)} ms, stop+start ${(restart - HEALTHY_MS).toFixed(0)} ms ` +
      `(of which openedge stop ${stoppedMs} ms)`,
  );
}

/** Stops every master (SIGTERM, then SIGKILL), kills what they left, removes the temp dir. */
async function cleanup(tmp: string): Promise<void> {
  await Promise.all(masters.map((m) => m.stop()));
  for (const pid of markedPids(tmp)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const bin = ensureBuilt();
  const tmp = mkdtempSync(join(tmpdir(), "oe-bench-master-"));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void cleanup(tmp).finally(() => process.exit(130)));
  }
  try {
    await idleRss(bin, tmp);
    await crashToRunning(bin, tmp);
    await inspectLatency(bin, tmp);
    await updates(bin, tmp);
  } finally {
    await cleanup(tmp);
  }
  const header: Row = ["figure", "openedge", "reference", "ratio"];
  for (const r of [header, ...rows])
    console.log(`${r[0].padEnd(70)} ${r[1].padStart(9)} ${r[2].padStart(10)} ${r[3].padStart(6)}`);
  for (const n of notes) console.log(`  · ${n}`);
}

await main();
