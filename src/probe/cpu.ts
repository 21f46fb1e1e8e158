// CPU: usage from /proc/stat deltas between readings (the sampler keeps the previous reading, so a
// call never sleeps), the model from /proc/cpuinfo, load averages from /proc/loadavg.

import { cpus } from "node:os";
import { join } from "node:path";
import { readText, toNumber } from "./read-file.ts";
import type { CpuStats, LoadAverage } from "./types.ts";

export interface CpuTimes {
  /** Every jiffy counted (guest time is already inside user and nice, so it is left out). */
  total: number;
  /** total − idle − iowait. */
  busy: number;
}

export interface ProcStat {
  cpu: CpuTimes;
  /** Online logical CPUs: the `cpuN` lines. */
  cores: number;
  /** Boot time, seconds since the epoch. */
  btime: number;
  procsRunning: number;
}

/** The aggregate `cpu` line, the per-CPU count and `btime` of /proc/stat; null without a `cpu` line. */
export function parseProcStat(text: string): ProcStat | null {
  let cpu: CpuTimes | null = null;
  let cores = 0;
  let btime = 0;
  let procsRunning = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("cpu ")) cpu = parseCpuLine(line);
    else if (/^cpu\d/.test(line)) cores++;
    else if (line.startsWith("btime ")) btime = toNumber(line.slice(6).trim());
    else if (line.startsWith("procs_running ")) procsRunning = toNumber(line.slice(14).trim());
  }
  return cpu === null ? null : { cpu, cores, btime, procsRunning };
}

function parseCpuLine(line: string): CpuTimes {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number) => (Number.isFinite(v[i]) ? v[i]! : 0);
  const idle = at(3) + at(4);
  const total = at(0) + at(1) + at(2) + at(3) + at(4) + at(5) + at(6) + at(7);
  return { total, busy: total - idle };
}

/** Busy share between two readings; null when no time passed between them. */
export function cpuPercentBetween(prev: CpuTimes, next: CpuTimes): number | null {
  const total = next.total - prev.total;
  if (total <= 0) return null;
  const busy = Math.min(Math.max(next.busy - prev.busy, 0), total);
  return Math.round((busy / total) * 10_000) / 100;
}

/** Keeps the previous /proc/stat reading so usage is a delta without a blocking sleep. */
export class CpuSampler {
  private prev: CpuTimes = { total: 0, busy: 0 };
  private last = 0;

  /** Usage since the previous call (since boot on the first); repeats the last value if no tick passed. */
  usedPercent(now: CpuTimes): number {
    const value = cpuPercentBetween(this.prev, now);
    if (value === null) return this.last;
    this.prev = now;
    this.last = value;
    return value;
  }
}

/** The CPU model: `model name` on x86, `Processor`/`cpu model`/`Hardware`/`Model` on ARM and MIPS kernels. */
export function parseCpuModel(cpuinfo: string): string | null {
  const fields = new Map<string, string>();
  for (const line of cpuinfo.split("\n")) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const key = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (value !== "" && !fields.has(key)) fields.set(key, value);
  }
  for (const key of ["model name", "Processor", "cpu model", "Hardware", "Model"]) {
    const value = fields.get(key);
    if (value !== undefined) return value;
  }
  return null;
}

export function readCpuModel(procRoot: string): string {
  const text = readText(join(procRoot, "cpuinfo"));
  const model = text === null ? null : parseCpuModel(text);
  return model ?? cpus()[0]?.model ?? "unknown";
}

export function parseLoadavg(text: string): LoadAverage | null {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  if (![a, b, c].every((x) => x !== undefined && Number.isFinite(x))) return null;
  return { load1: a!, load5: b!, load15: c! };
}

const ZERO_LOAD: LoadAverage = { load1: 0, load5: 0, load15: 0 };

/** CPU stats from an already-read /proc/stat (the host probe reads it once for several blocks). */
export function cpuStatsFrom(
  stat: ProcStat | null,
  sampler: CpuSampler,
  model: string,
  procRoot: string,
): CpuStats {
  const loadText = readText(join(procRoot, "loadavg"));
  const load = (loadText === null ? null : parseLoadavg(loadText)) ?? ZERO_LOAD;
  if (stat === null) {
    return { used_percent: 0, model, cores: 0, load, error: `cannot read ${join(procRoot, "stat")}` };
  }
  return { used_percent: sampler.usedPercent(stat.cpu), model, cores: stat.cores, load };
}
