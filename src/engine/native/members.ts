// Which processes belong to an instance, and signalling them all. With a cgroup the kernel knows;
// without one we take the instance's process group and session, their descendants, and orphans
// adopted by this subreaper whose environment names the instance.

import type { CgroupHandle } from "./cgroups/index.ts";
import { isSpawnedByBun } from "./children.ts";
import { listProcesses, type ProcStat, readEnviron, readStat } from "./procfs.ts";

export interface InstanceIdentity {
  /** Pid of the process we spawned; it leads the instance's session and process group. */
  leader: number;
  /** The leader's start time (/proc stat field 22), 0 when unknown: tells our leader from a recycled pid. */
  leaderStartTime: number;
  cgroup: CgroupHandle | null;
  /** Environment entries every process of the instance inherits (OPENEDGE_SERVICE_*). */
  marker: Record<string, string>;
}

/**
 * Live pids of the instance. `thorough` adds a /proc scan even when a cgroup is there. `procs`: a
 * scan of /proc to use instead of a fresh one (stats of many instances share one).
 */
export function instanceMembers(
  id: InstanceIdentity,
  thorough: boolean,
  procs: () => ProcStat[] = listProcesses,
): number[] {
  const out = new Set<number>();
  if (id.cgroup !== null) {
    for (const pid of id.cgroup.members()) out.add(pid);
    if (!thorough) return [...out];
  }
  const self = process.pid;
  const list = procs();
  const selfSid = list.find((p) => p.pid === self)?.sid ?? self;
  const byParent = new Map<number, ProcStat[]>();
  for (const p of list) {
    const siblings = byParent.get(p.ppid);
    if (siblings === undefined) byParent.set(p.ppid, [p]);
    else siblings.push(p);
  }
  // The kernel keeps a pid reserved while it names a live group or session, so once the leader's pid
  // belongs to a different process our group and session are empty and those ids are someone else's.
  const ours = !leaderRecycled(
    id,
    list.find((p) => p.pid === id.leader),
  );
  const seeds = list.filter(
    (p) =>
      (ours && (p.pid === id.leader || p.pgid === id.leader || p.sid === id.leader)) ||
      (p.ppid === self && p.sid !== selfSid && !isSpawnedByBun(p.pid) && carriesMarker(p.pid, id.marker)),
  );
  const queue = [...seeds];
  for (let p = queue.pop(); p !== undefined; p = queue.pop()) {
    if (p.pid === self || out.has(p.pid)) continue;
    if (p.state !== "Z" && p.state !== "X") out.add(p.pid);
    for (const child of byParent.get(p.pid) ?? []) queue.push(child);
  }
  out.delete(self);
  return [...out];
}

/** Sends `signal` to the instance's process group and to every member (ESRCH ignored). */
export function signalInstance(
  id: InstanceIdentity,
  signal: NodeJS.Signals,
  members: readonly number[],
): void {
  if (!leaderRecycled(id, readStat(id.leader))) {
    try {
      process.kill(-id.leader, signal);
    } catch {
      // the group is empty
    }
  }
  for (const pid of members) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function carriesMarker(pid: number, marker: Record<string, string>): boolean {
  const keys = Object.keys(marker);
  if (keys.length === 0) return false;
  const env = readEnviron(pid);
  return env !== null && keys.every((k) => env[k] === marker[k]);
}

function leaderRecycled(id: InstanceIdentity, leader: ProcStat | null | undefined): boolean {
  return (
    leader !== null &&
    leader !== undefined &&
    id.leaderStartTime !== 0 &&
    leader.startTime !== id.leaderStartTime
  );
}

let snapshot: { at: number; procs: ProcStat[] } | null = null;

/**
 * One /proc scan shared by the stats of every instance sampled within `maxAgeMs` (an inspect samples
 * them all at once): without cgroups each would otherwise read every process's stat file. Real time,
 * not an injected clock: it is about the age of what was read from /proc.
 */
export function recentProcesses(maxAgeMs = 100): ProcStat[] {
  const now = performance.now();
  if (snapshot === null || now - snapshot.at > maxAgeMs) snapshot = { at: now, procs: listProcesses() };
  return snapshot.procs;
}

/** After a spawn: the next figures must see the new process. */
export function forgetProcesses(): void {
  snapshot = null;
}
