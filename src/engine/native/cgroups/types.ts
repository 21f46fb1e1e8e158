// What the native engine needs from a cgroup, whichever version the host runs.

import type { LimitsReport, ResourceSpec } from "../../types.ts";

export interface CgroupHandle {
  /** Leaf directories created for the instance (one per v1 hierarchy, one on v2). */
  readonly dirs: string[];
  /** The files the launcher writes the child's pid into before exec. */
  readonly procsFiles: string[];
  readonly limits: LimitsReport;
  /** Live member pids. */
  members(): number[];
  /** Cumulative CPU time of everything that ran in the group, in nanoseconds. */
  cpuUsageNs(): number | null;
  memoryUsageBytes(): number | null;
  memoryLimitBytes(): number | null;
  /** How many times the kernel OOM killer struck in this group. */
  oomKills(): number;
  /** Removes the directories once the members are gone (retries while the kernel finishes exits). */
  remove(): Promise<void>;
}

export interface CgroupManager {
  readonly version: "v1" | "v2" | "none";
  /** Why cgroups are not (fully) usable; shown in every LimitsReport. */
  readonly reason?: string;
  /** A fresh group for one instance, limits applied; null when cgroups are unusable. */
  create(name: string, resources: ResourceSpec): CgroupHandle | null;
}

export function requestedLimits(resources: ResourceSpec): string[] {
  const out: string[] = [];
  if (resources.cpu?.cpus !== undefined) out.push("cpu.cpus");
  if (resources.cpu?.setcpus !== undefined) out.push("cpu.setcpus");
  if (resources.memory?.limitBytes !== undefined) out.push("memory.limit");
  if (resources.memory?.swapBytes !== undefined) out.push("memory.swap");
  if (resources.pids?.limit !== undefined) out.push("pids.limit");
  return out;
}

/** The report for an instance started without a cgroup: nothing requested is in force. */
export function unenforcedReport(resources: ResourceSpec, reason: string): LimitsReport {
  const skipped = requestedLimits(resources).map((limit) => ({ limit, reason }));
  return {
    enforced: skipped.length === 0,
    via: "none",
    ...(skipped.length === 0 ? {} : { reason }),
    applied: {},
    skipped,
  };
}
