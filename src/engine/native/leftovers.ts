// Recovery after a crashed master: ends exactly the instances its state file names. A pid is killed
// only while it is still the same process (same start time), never a recycled one; recorded cgroups
// are ours alone (our parent folder), so whatever is in them goes, and the folders with it.

import { basename, dirname, join } from "node:path";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../log/index.ts";
import type { LeftoverReport } from "../engine.ts";
import type { InstanceRecord } from "../types.ts";
import { readPids, removeDir } from "./cgroups/fs-util.ts";
import { instanceDirPath, removeInstanceDir } from "./instance-dir.ts";
import { pidAlive, readStat } from "./procfs.ts";

export interface LeftoverDeps {
  workDir: string;
  /** Only cgroup dirs directly inside a folder of this name are touched. */
  cgroupParent: string;
  clock: Clock;
  log: Logger;
}

const WAIT_MS = 5000;
const POLL_MS = 20;

export async function reapLeftovers(
  records: readonly InstanceRecord[],
  deps: LeftoverDeps,
): Promise<LeftoverReport> {
  const report: LeftoverReport = { reaped: [], gone: [] };
  for (const record of records) {
    if (record.engine !== "native") continue;
    const killed = killRecorded(record, deps);
    for (const dir of record.cgroups ?? []) {
      if (basename(dirname(dir)) !== deps.cgroupParent) {
        deps.log.warn("leftover_cgroup_ignored", { dir, reason: "not under the engine's cgroup folder" });
        continue;
      }
      // a pid sits in one group per v1 hierarchy: kill and list it once
      for (const pid of readPids(join(dir, "cgroup.procs"))) {
        if (killed.includes(pid)) continue;
        kill(pid, "SIGKILL");
        killed.push(pid);
      }
    }
    await waitGone(killed, deps.clock);
    for (const dir of record.cgroups ?? []) {
      if (basename(dirname(dir)) !== deps.cgroupParent) continue;
      const err = await removeDir(dir, (ms) => deps.clock.sleep(ms));
      if (err !== null) deps.log.warn("leftover_cgroup_remove_failed", { dir, error: err });
    }
    try {
      removeInstanceDir(instanceDirPath(deps.workDir, record.service, record.instance));
    } catch {
      // a bad name in a damaged file: nothing of ours to remove
    }
    if (killed.length > 0) {
      report.reaped.push(record);
      deps.log.warn("leftover_reaped", { service: record.service, instance: record.instance, pids: killed });
    } else {
      report.gone.push(record);
    }
  }
  return report;
}

/** SIGKILLs the recorded leader and its process group when the pid is still the recorded process. */
function killRecorded(record: InstanceRecord, deps: LeftoverDeps): number[] {
  if (record.pid === undefined || record.startTime === undefined) return [];
  const stat = readStat(record.pid);
  if (stat === null || stat.state === "Z" || stat.startTime !== record.startTime) {
    if (stat !== null && stat.startTime !== record.startTime) {
      deps.log.info("leftover_pid_recycled", {
        service: record.service,
        instance: record.instance,
        pid: record.pid,
      });
    }
    return [];
  }
  if (stat.pgid === record.pid) kill(-record.pid, "SIGKILL");
  kill(record.pid, "SIGKILL");
  return [record.pid];
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function waitGone(pids: readonly number[], clock: Clock): Promise<void> {
  const until = clock.monotonic() + WAIT_MS;
  while (pids.some(pidAlive) && clock.monotonic() < until) await clock.sleep(POLL_MS);
}
