// Picks the cgroup mechanism at engine start: v1 where the memory/pids controllers live in v1
// hierarchies (older hosts, hybrid setups), v2 where the unified hierarchy holds them (Raspberry Pi
// OS, modern systemd), and "none" with a reason where neither can be written.

import { readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "../../../log/index.ts";
import { parseMountinfo, parseProcCgroup, v1Hierarchies, v2Dir } from "./parse.ts";
import type { CgroupHandle, CgroupManager } from "./types.ts";
import { CgroupV1Manager } from "./v1.ts";
import { CgroupV2Manager, MASTER_LEAF } from "./v2.ts";

export interface DetectOptions {
  log: Logger;
  sleep: (ms: number) => Promise<void>;
  /** Folder under our own group for instance groups (default `openedge`). */
  parent?: string;
  /** Allow moving the master into a leaf group on v2 (default true). */
  v2MoveSelf?: boolean;
  /** Text of /proc/self/cgroup and /proc/self/mountinfo (read from /proc when absent). */
  procCgroup?: string;
  mountinfo?: string;
}

export class NoCgroups implements CgroupManager {
  readonly version = "none" as const;
  constructor(readonly reason: string) {}
  create(): CgroupHandle | null {
    return null;
  }
}

export function detectCgroups(options: DetectOptions): CgroupManager {
  const parent = options.parent ?? "openedge";
  let procCgroup: string;
  let mountinfo: string;
  try {
    procCgroup = options.procCgroup ?? readFileSync("/proc/self/cgroup", "utf8");
    mountinfo = options.mountinfo ?? readFileSync("/proc/self/mountinfo", "utf8");
  } catch (err) {
    return new NoCgroups(`cannot read /proc/self cgroup info: ${(err as Error).message}`);
  }
  const memberships = parseProcCgroup(procCgroup);
  const mounts = parseMountinfo(mountinfo);
  const reasons: string[] = [];

  const v1 = v1Hierarchies(memberships, mounts);
  if (v1.has("memory") || v1.has("pids")) {
    const m = CgroupV1Manager.open({ hierarchies: v1, parent, log: options.log, sleep: options.sleep });
    if (m instanceof CgroupV1Manager) return m;
    reasons.push(m.reason);
  }
  const found = v2Dir(memberships, mounts);
  // A master started again in the leaf a previous one moved into works from the group above it.
  const dir = found !== null && basename(found) === MASTER_LEAF ? dirname(found) : found;
  if (dir !== null) {
    const m = CgroupV2Manager.open({
      dir,
      parent,
      log: options.log,
      sleep: options.sleep,
      moveSelf: options.v2MoveSelf ?? true,
      pid: process.pid,
    });
    if (m instanceof CgroupV2Manager) return m;
    reasons.push(m.reason);
  }
  if (reasons.length === 0) reasons.push("no cgroup hierarchy is mounted");
  return new NoCgroups(reasons.join("; "));
}
