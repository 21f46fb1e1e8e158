// /proc/<pid>/stat and /proc/<pid>/status of one process, and its start time: with the pid, the start
// time (field 22) names a process uniquely, so the engine can tell its child from a reused pid.

import { join } from "node:path";
import { type ProbeRoots, resolveRoots } from "./deps.ts";
import { readText, toNumber } from "./read-file.ts";

export interface PidStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Clock ticks in user and kernel mode (fields 14, 15). */
  utime: number;
  stime: number;
  threads: number;
  /** Clock ticks after boot at which the process started (field 22). */
  startTime: number;
}

/**
 * Parses a /proc/<pid>/stat line. The command name sits in parentheses and may itself hold spaces and
 * parentheses (`(my (weird) name)`), so it ends at the last `)` of the line.
 */
export function parsePidStat(text: string): PidStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // rest[0] is field 3 (state), so field n is rest[n - 3]
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  if (!Number.isInteger(pid) || rest.length < 20) return null;
  const field = (n: number) => toNumber(rest[n - 3]);
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? "?",
    ppid: field(4),
    pgrp: field(5),
    session: field(6),
    utime: field(14),
    stime: field(15),
    threads: field(20),
    startTime: field(22),
  };
}

/** VmRSS of /proc/<pid>/status in bytes; 0 for kernel threads and zombies, which have none. */
export function parseStatusRss(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s*kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

function isPid(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0;
}

/** The parsed stat of a live process, or null for a vanished (or invalid) pid. */
export function readPidStat(pid: number, roots: ProbeRoots = {}): PidStat | null {
  if (!isPid(pid)) return null;
  const text = readText(join(resolveRoots(roots).procRoot, String(pid), "stat"));
  return text === null ? null : parsePidStat(text);
}

/** Resident set size in bytes, or null for a vanished pid. */
export function readPidRss(pid: number, roots: ProbeRoots = {}): number | null {
  if (!isPid(pid)) return null;
  const text = readText(join(resolveRoots(roots).procRoot, String(pid), "status"));
  return text === null ? null : parseStatusRss(text);
}

/**
 * The start time of a process in clock ticks after boot (field 22 of /proc/<pid>/stat); null when the
 * pid is gone or invalid. Never throws. Stable for the life of the process, so `(pid, startTime)`
 * identifies it across a pid being reused.
 */
export function processStartTime(pid: number, roots: ProbeRoots = {}): number | null {
  return readPidStat(pid, roots)?.startTime ?? null;
}
