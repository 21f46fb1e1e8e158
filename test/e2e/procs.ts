// What the e2e tests see of processes, straight from /proc: liveness (zombies count as gone), argv,
// environment, parents, start times, and every process that carries a given environment marker.

import { readdirSync, readFileSync } from "node:fs";

export interface Stat {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** Field 22: start time in clock ticks after boot. */
  startTime: number;
  /** Fields 14 + 15: CPU time used (user + system), in clock ticks (1/100 s). */
  cpuTicks: number;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

export function stat(pid: number): Stat | null {
  const text = read(`/proc/${pid}/stat`);
  if (text === null) return null;
  const rest = text
    .slice(text.lastIndexOf(")") + 2)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(rest[n - 3]);
  return {
    pid,
    state: rest[0] ?? "?",
    ppid: field(4),
    pgid: field(5),
    sid: field(6),
    startTime: field(22),
    cpuTicks: field(14) + field(15),
  };
}

/** True while the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  const st = stat(pid);
  return st !== null && st.state !== "Z" && st.state !== "X";
}

export function cmdline(pid: number): string[] | null {
  const text = read(`/proc/${pid}/cmdline`);
  return text === null ? null : text.split("\0").slice(0, -1);
}

export function environ(pid: number): Record<string, string> | null {
  const text = read(`/proc/${pid}/environ`);
  if (text === null) return null;
  const env: Record<string, string> = {};
  for (const entry of text.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Live processes (other than this one) whose environment has `key=value`. */
export function pidsWithEnv(key: string, value: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    if (alive(pid) && environ(pid)?.[key] === value) out.push(pid);
  }
  return out.sort((a, b) => a - b);
}

export function killQuietly(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
