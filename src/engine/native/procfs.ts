// Reading /proc: a process's stat line (parent, group, session, cpu ticks, start time), its RSS,
// its environment and children. Every reader returns null for a process that is gone.

import { readdirSync, readFileSync } from "node:fs";
import { parsePidStat, readPidRss } from "../../probe/index.ts";

/** USER_HZ: /proc reports cpu times in these ticks; it is 100 on every Linux architecture we target. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z (zombie), T, … */
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  utimeTicks: number;
  stimeTicks: number;
  /** Field 22: start time in ticks after boot. With the pid it names one process for good. */
  startTime: number;
}

/** /proc/<pid>/stat in the engine's vocabulary, parsed by the probe's parser (one parser for the format). */
export function parseStat(text: string): ProcStat | null {
  const s = parsePidStat(text);
  if (s === null) return null;
  return {
    pid: s.pid,
    comm: s.comm,
    state: s.state,
    ppid: s.ppid,
    pgid: s.pgrp,
    sid: s.session,
    utimeTicks: s.utime,
    stimeTicks: s.stime,
    startTime: s.startTime,
  };
}

export function readStat(pid: number): ProcStat | null {
  const text = readOrNull(`/proc/${pid}/stat`);
  return text === null ? null : parseStat(text);
}

/** Resident memory in bytes (0 for zombies and kernel threads), null for a vanished pid. */
export function readRssBytes(pid: number): number | null {
  return readPidRss(pid);
}

export function readEnviron(pid: number): Record<string, string> | null {
  const text = readOrNull(`/proc/${pid}/environ`);
  if (text === null) return null;
  const env: Record<string, string> = {};
  for (const entry of text.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/** Every process's stat, skipping those that vanish while we read. */
export function listProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (stat !== null) out.push(stat);
  }
  return out;
}

/**
 * Direct children of a process, zombies included. Uses /proc/<pid>/task/<tid>/children (orphans are
 * reparented to any thread of a subreaper) and falls back to a full scan where that file is missing.
 */
export function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out = new Set<number>();
  for (const tid of tids) {
    const text = readOrNull(`/proc/${pid}/task/${tid}/children`);
    if (text === null)
      return listProcesses()
        .filter((p) => p.ppid === pid)
        .map((p) => p.pid);
    for (const part of text.split(/\s+/)) {
      const child = Number(part);
      if (part !== "" && Number.isInteger(child)) out.add(child);
    }
  }
  return [...out];
}

export function pidAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.state !== "Z" && stat.state !== "X";
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}
