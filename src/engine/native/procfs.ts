// Reading /proc: a process's stat line (parent, group, session, cpu ticks, start time), its RSS,
// its environment and children. Every reader returns null for a process that is gone.

import { readdirSync, readFileSync } from "node:fs";

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

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const field = (n: number): number => Number(rest[n - 3]);
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? "?",
    ppid: field(4),
    pgid: field(5),
    sid: field(6),
    utimeTicks: field(14),
    stimeTicks: field(15),
    startTime: field(22),
  };
  return Number.isInteger(stat.pid) && Number.isFinite(stat.startTime) ? stat : null;
}

export function readStat(pid: number): ProcStat | null {
  const text = readOrNull(`/proc/${pid}/stat`);
  return text === null ? null : parseStat(text);
}

/** VmRSS from /proc/<pid>/status (kB there, bytes here); 0 for zombies and kernel threads. */
export function readRssBytes(pid: number): number | null {
  const text = readOrNull(`/proc/${pid}/status`);
  if (text === null) return null;
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m === null ? 0 : Number(m[1]) * 1024;
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
