// Per-process cpu and memory: cpu percent is the growth of utime+stime since this sampler last saw the
// same process (same pid and start time), so a call never sleeps; RSS comes from /proc/<pid>/status.

import { join } from "node:path";
import { type Clock, systemClock } from "../lib/clock.ts";
import { parseProcStat } from "./cpu.ts";
import { DEFAULT_CLOCK_TICKS, type ProbeRoots, resolveRoots } from "./deps.ts";
import { parseMeminfo } from "./meminfo.ts";
import { type PidStat, parsePidStat, readPidRss, readPidStat } from "./pid-stat.ts";
import { listDir, percent, readNumber, readText } from "./read-file.ts";
import type { ProcessGroupStats, ProcessStats } from "./types.ts";

export interface ProcessSamplerDeps extends ProbeRoots {
  clock?: Clock;
  clockTicks?: number;
}

interface Previous {
  startTime: number;
  ticks: number;
  /** clock.monotonic() of the reading. */
  at: number;
}

/** Readings older than this belong to processes nobody asks about any more. */
const FORGET_AFTER_MS = 10 * 60_000;

export class ProcessSampler {
  private readonly procRoot: string;
  private readonly clock: Clock;
  private readonly hz: number;
  private readonly previous = new Map<number, Previous>();
  private bootTimeMs: number | null = null;
  private memTotal: number | null = null;
  private lastPrune = 0;

  constructor(deps: ProcessSamplerDeps = {}) {
    this.procRoot = resolveRoots(deps).procRoot;
    this.clock = deps.clock ?? systemClock;
    this.hz = deps.clockTicks ?? DEFAULT_CLOCK_TICKS;
  }

  /** Stats of one process, or null when the pid is gone. */
  sample(pid: number): ProcessStats | null {
    const stat = readPidStat(pid, { procRoot: this.procRoot });
    if (stat === null) return null;
    const rss = readPidRss(pid, { procRoot: this.procRoot });
    if (rss === null) return null;
    this.prune();
    return this.statsOf(stat, rss);
  }

  /** Stats of each live pid of the list; vanished pids are left out. */
  sampleMany(pids: readonly number[]): ProcessStats[] {
    const out: ProcessStats[] = [];
    for (const pid of pids) {
      const stats = this.sample(pid);
      if (stats !== null) out.push(stats);
    }
    return out;
  }

  /**
   * Summed stats of the members of each process group (one scan of /proc for all of them); a group
   * with no live member is absent from the result.
   */
  sampleGroups(pgids: readonly number[]): Map<number, ProcessGroupStats> {
    const wanted = new Set(pgids);
    const out = new Map<number, ProcessGroupStats>();
    if (wanted.size === 0) return out;
    for (const name of listDir(this.procRoot)) {
      if (!/^\d+$/.test(name)) continue;
      const text = readText(join(this.procRoot, name, "stat"));
      const stat = text === null ? null : parsePidStat(text);
      if (stat === null || !wanted.has(stat.pgrp)) continue;
      const rss = readPidRss(stat.pid, { procRoot: this.procRoot });
      if (rss === null) continue;
      const stats = this.statsOf(stat, rss);
      const group = out.get(stat.pgrp) ?? {
        pgid: stat.pgrp,
        pids: [],
        cpu_percent: 0,
        rss: 0,
        mem_percent: 0,
      };
      group.pids.push(stats.pid);
      group.cpu_percent = round2(group.cpu_percent + stats.cpu_percent);
      group.rss += stats.rss;
      group.mem_percent = percent(group.rss, this.totalMemory());
      out.set(stat.pgrp, group);
    }
    this.prune();
    return out;
  }

  sampleGroup(pgid: number): ProcessGroupStats | null {
    return this.sampleGroups([pgid]).get(pgid) ?? null;
  }

  /** Drops what is kept about a pid (the engine calls it when an instance exits). */
  forget(pid: number): void {
    this.previous.delete(pid);
  }

  private statsOf(stat: PidStat, rss: number): ProcessStats {
    const now = this.clock.monotonic();
    const ticks = stat.utime + stat.stime;
    const prev = this.previous.get(stat.pid);
    let cpu: number;
    if (prev !== undefined && prev.startTime === stat.startTime && now > prev.at) {
      cpu = ((ticks - prev.ticks) / this.hz / ((now - prev.at) / 1000)) * 100;
    } else {
      cpu = this.lifetimePercent(ticks, stat.startTime);
    }
    this.previous.set(stat.pid, { startTime: stat.startTime, ticks, at: now });
    return {
      pid: stat.pid,
      name: stat.comm,
      state: stat.state,
      ppid: stat.ppid,
      pgid: stat.pgrp,
      threads: stat.threads,
      start_time: stat.startTime,
      started_at: this.bootTime() + Math.round((stat.startTime / this.hz) * 1000),
      cpu_percent: round2(Math.max(0, cpu)),
      rss,
      mem_percent: percent(rss, this.totalMemory()),
    };
  }

  /** First sight of a process: its average over its life so far. */
  private lifetimePercent(ticks: number, startTime: number): number {
    const uptime = readNumber(join(this.procRoot, "uptime"));
    if (uptime === null) return 0;
    const age = uptime - startTime / this.hz;
    return age > 0 ? (ticks / this.hz / age) * 100 : 0;
  }

  /** Boot time in epoch ms; /proc/stat's btime is read once, it does not change while we run. */
  private bootTime(): number {
    if (this.bootTimeMs === null) {
      const text = readText(join(this.procRoot, "stat"));
      this.bootTimeMs = ((text === null ? null : parseProcStat(text))?.btime ?? 0) * 1000;
    }
    return this.bootTimeMs;
  }

  private totalMemory(): number {
    if (this.memTotal === null) {
      const text = readText(join(this.procRoot, "meminfo"));
      this.memTotal = text === null ? 0 : (parseMeminfo(text).get("MemTotal") ?? 0);
    }
    return this.memTotal;
  }

  private prune(): void {
    const now = this.clock.monotonic();
    if (now - this.lastPrune < FORGET_AFTER_MS) return;
    this.lastPrune = now;
    for (const [pid, prev] of this.previous) if (now - prev.at > FORGET_AFTER_MS) this.previous.delete(pid);
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
