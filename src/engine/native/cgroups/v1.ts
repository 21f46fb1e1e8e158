// cgroup v1: one directory per hierarchy (memory, pids, cpu, cpuacct, cpuset) under our own group in
// each, `<group>/<parent>/<instance>`; the child joins them all before exec.

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../../log/index.ts";
import type { LimitsReport, ResourceSpec } from "../../types.ts";
import { makeDir, readKeyed, readNumber, readPids, readText, removeDir, writeValue } from "./fs-util.ts";
import type { V1Hierarchy } from "./parse.ts";
import type { CgroupHandle, CgroupManager } from "./types.ts";

const WANTED = ["memory", "pids", "cpu", "cpuacct", "cpuset"] as const;
type Controller = (typeof WANTED)[number];
const CFS_PERIOD_US = 100_000;
const UNLIMITED = 2 ** 62;

export interface V1Deps {
  hierarchies: Map<string, V1Hierarchy>;
  /** Folder under our own group that holds the instance groups (`openedge`). */
  parent: string;
  log: Logger;
  sleep: (ms: number) => Promise<void>;
}

export class CgroupV1Manager implements CgroupManager {
  readonly version = "v1" as const;
  readonly reason?: string;

  private constructor(
    /** Writable parent dir per controller. */
    private readonly parents: Map<Controller, string>,
    private readonly missing: Map<Controller, string>,
    private readonly deps: V1Deps,
  ) {
    if (missing.size > 0) this.reason = [...missing.values()].join("; ");
  }

  /** Sets up the parent folders; returns a reason instead when neither memory nor pids is usable. */
  static open(deps: V1Deps): CgroupV1Manager | { reason: string } {
    const parents = new Map<Controller, string>();
    const missing = new Map<Controller, string>();
    for (const c of WANTED) {
      const h = deps.hierarchies.get(c);
      if (h === undefined) {
        missing.set(c, `no ${c} cgroup hierarchy is mounted`);
        continue;
      }
      const dir = join(h.dir, deps.parent);
      const problem = makeDir(dir);
      if (problem !== null) {
        missing.set(c, problem);
        continue;
      }
      // A new cpuset group starts with no cpus and no mems, and no task can join it like that.
      if (c === "cpuset") {
        const problem = inheritCpuset(h.dir, dir);
        if (problem !== null) {
          missing.set(c, problem);
          continue;
        }
      }
      parents.set(c, dir);
    }
    if (!parents.has("memory") && !parents.has("pids")) {
      return { reason: `cgroup v1 unusable: ${[missing.get("memory"), missing.get("pids")].join("; ")}` };
    }
    return new CgroupV1Manager(parents, missing, deps);
  }

  create(name: string, resources: ResourceSpec): CgroupHandle {
    const leaves = new Map<Controller, string>();
    const created: string[] = [];
    const failed = new Map<Controller, string>(this.missing);
    const join_ = (c: Controller): void => {
      const parent = this.parents.get(c);
      if (parent === undefined) return;
      const dir = join(parent, name);
      if (!created.includes(dir)) {
        // The parent is made again if someone removed it while it was empty.
        const problem =
          makeDir(parent) ??
          (c === "cpuset" ? inheritCpuset(join(parent, ".."), parent) : null) ??
          makeDir(dir);
        if (problem !== null) {
          failed.set(c, problem);
          return;
        }
        created.push(dir);
      }
      leaves.set(c, dir);
    };
    for (const c of ["memory", "pids", "cpu", "cpuacct"] as const) join_(c);
    if (resources.cpu?.setcpus !== undefined) join_("cpuset");

    const limits: LimitsReport = { enforced: true, via: "cgroup-v1", applied: {}, skipped: [] };
    const skip = (limit: string, reason: string): void => {
      limits.skipped.push({ limit, reason });
    };
    const need = (c: Controller, limit: string): string | null => {
      const dir = leaves.get(c);
      if (dir === undefined) skip(limit, failed.get(c) ?? `no ${c} cgroup`);
      return dir ?? null;
    };

    const cpus = resources.cpu?.cpus;
    if (cpus !== undefined) {
      const dir = need("cpu", "cpu.cpus");
      if (dir !== null) {
        const quota = Math.max(1000, Math.round(cpus * CFS_PERIOD_US));
        const err =
          writeValue(join(dir, "cpu.cfs_period_us"), String(CFS_PERIOD_US)) ??
          writeValue(join(dir, "cpu.cfs_quota_us"), String(quota));
        if (err === null) limits.applied.cpus = cpus;
        else skip("cpu.cpus", err);
      }
    }
    const setcpus = resources.cpu?.setcpus;
    if (setcpus !== undefined) {
      const dir = need("cpuset", "cpu.setcpus");
      if (dir !== null) {
        const err = inheritCpuset(join(dir, ".."), dir, setcpus);
        if (err === null) limits.applied.setcpus = setcpus;
        else skip("cpu.setcpus", err);
      }
    }
    const mem = resources.memory;
    if (mem?.limitBytes !== undefined || mem?.swapBytes !== undefined) {
      const dir = need("memory", mem.limitBytes !== undefined ? "memory.limit" : "memory.swap");
      if (dir !== null && mem.limitBytes !== undefined) {
        const err = writeValue(join(dir, "memory.limit_in_bytes"), String(mem.limitBytes));
        if (err === null) limits.applied.memoryBytes = mem.limitBytes;
        else skip("memory.limit", err);
      }
      if (dir !== null && mem.swapBytes !== undefined) {
        const memsw = join(dir, "memory.memsw.limit_in_bytes");
        if (mem.limitBytes === undefined || limits.applied.memoryBytes === undefined) {
          skip("memory.swap", "a swap limit needs a memory limit");
        } else if (!existsSync(memsw)) {
          skip("memory.swap", "swap accounting is off (memory.memsw.* missing; boot with swapaccount=1)");
        } else {
          const err = writeValue(memsw, String(mem.limitBytes + mem.swapBytes));
          if (err === null) limits.applied.swapBytes = mem.swapBytes;
          else skip("memory.swap", err);
        }
      }
    }
    const pids = resources.pids?.limit;
    if (pids !== undefined) {
      const dir = need("pids", "pids.limit");
      if (dir !== null) {
        const err = writeValue(join(dir, "pids.max"), String(pids));
        if (err === null) limits.applied.pids = pids;
        else skip("pids.limit", err);
      }
    }
    if (limits.skipped.length > 0) {
      limits.enforced = false;
      limits.reason = limits.skipped.map((s) => `${s.limit}: ${s.reason}`).join("; ");
    }
    return new V1Handle(created, leaves, limits, this.deps);
  }
}

class V1Handle implements CgroupHandle {
  readonly procsFiles: string[];

  constructor(
    readonly dirs: string[],
    private readonly leaves: Map<Controller, string>,
    readonly limits: LimitsReport,
    private readonly deps: V1Deps,
  ) {
    this.procsFiles = dirs.map((d) => join(d, "cgroup.procs"));
  }

  members(): number[] {
    const dir = this.leaves.get("pids") ?? this.leaves.get("memory") ?? this.dirs[0];
    return dir === undefined ? [] : readPids(join(dir, "cgroup.procs"));
  }

  cpuUsageNs(): number | null {
    const dir = this.leaves.get("cpuacct");
    return dir === undefined ? null : readNumber(join(dir, "cpuacct.usage"));
  }

  memoryUsageBytes(): number | null {
    const dir = this.leaves.get("memory");
    return dir === undefined ? null : readNumber(join(dir, "memory.usage_in_bytes"));
  }

  memoryLimitBytes(): number | null {
    const dir = this.leaves.get("memory");
    const limit = dir === undefined ? null : readNumber(join(dir, "memory.limit_in_bytes"));
    return limit === null || limit >= UNLIMITED ? null : limit;
  }

  oomKills(): number {
    const dir = this.leaves.get("memory");
    return dir === undefined ? 0 : (readKeyed(join(dir, "memory.oom_control")).get("oom_kill") ?? 0);
  }

  async remove(): Promise<void> {
    for (const dir of this.dirs) {
      const err = await removeDir(dir, this.deps.sleep);
      if (err !== null) this.deps.log.warn("cgroup_remove_failed", { dir, error: err });
    }
  }
}

/** Copies cpuset.mems (and cpus, unless given) from `from` into `to`; returns a reason on failure. */
function inheritCpuset(from: string, to: string, cpus?: string): string | null {
  const ready =
    (readText(join(to, "cpuset.cpus")) ?? "") !== "" && (readText(join(to, "cpuset.mems")) ?? "") !== "";
  if (cpus === undefined && ready) return null;
  const mems = readText(join(from, "cpuset.mems")) ?? "";
  const allCpus = readText(join(from, "cpuset.cpus")) ?? "";
  return writeValue(join(to, "cpuset.cpus"), cpus ?? allCpus) ?? writeValue(join(to, "cpuset.mems"), mems);
}
