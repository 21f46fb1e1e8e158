// cgroup v2 (unified): instance groups at `<our group>/<parent>/<instance>`. Controllers must be
// enabled top-down, and a group with processes cannot enable them for its children ("no internal
// processes"), so when our own group holds the master we move it into a leaf first (systemd:
// Delegate=yes hands us the unit's subtree).

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../../log/index.ts";
import type { LimitsReport, ResourceSpec } from "../../types.ts";
import { makeDir, readKeyed, readNumber, readPids, readText, removeDir, writeValue } from "./fs-util.ts";
import type { CgroupHandle, CgroupManager } from "./types.ts";

const WANTED = ["memory", "pids", "cpu", "cpuset"] as const;
type Controller = (typeof WANTED)[number];
const CPU_PERIOD_US = 100_000;
export const MASTER_LEAF = "openedge-master";

export interface V2Deps {
  /** Our own group's directory. */
  dir: string;
  parent: string;
  log: Logger;
  sleep: (ms: number) => Promise<void>;
  /** May we move this process into a leaf so controllers can be enabled below our group? */
  moveSelf: boolean;
  pid: number;
}

export class CgroupV2Manager implements CgroupManager {
  readonly version = "v2" as const;
  readonly reason?: string;

  private constructor(
    private readonly parentDir: string,
    private readonly enabled: Set<Controller>,
    private readonly deps: V2Deps,
  ) {
    const missing = WANTED.filter((c) => !enabled.has(c));
    if (missing.length > 0) this.reason = `cgroup v2 controllers not delegated: ${missing.join(", ")}`;
  }

  static open(deps: V2Deps): CgroupV2Manager | { reason: string } {
    const available = words(readText(join(deps.dir, "cgroup.controllers")));
    const wanted = WANTED.filter((c) => available.has(c));
    if (!wanted.includes("memory") && !wanted.includes("pids")) {
      return { reason: `cgroup v2 at ${deps.dir} offers neither memory nor pids controller` };
    }
    const problem = enableBelow(deps.dir, wanted, deps);
    if (problem !== null) return { reason: problem };
    const parentDir = join(deps.dir, deps.parent);
    const made = makeDir(parentDir);
    if (made !== null) return { reason: made };
    const enabledHere = words(readText(join(deps.dir, "cgroup.subtree_control")));
    const parentControl = join(parentDir, "cgroup.subtree_control");
    const enabledInParent = words(readText(parentControl));
    for (const c of wanted) {
      if (enabledHere.has(c) && !enabledInParent.has(c)) writeValue(parentControl, `+${c}`);
    }
    const enabled = new Set(
      [...words(readText(join(parentDir, "cgroup.subtree_control")))].filter((c): c is Controller =>
        (WANTED as readonly string[]).includes(c),
      ),
    );
    if (!enabled.has("memory") && !enabled.has("pids")) {
      return { reason: `cannot enable memory or pids controllers in ${parentDir}` };
    }
    return new CgroupV2Manager(parentDir, enabled, deps);
  }

  create(name: string, resources: ResourceSpec): CgroupHandle {
    const dir = join(this.parentDir, name);
    const made = makeDir(dir);
    if (made !== null) throw new Error(made);
    const limits: LimitsReport = { enforced: true, via: "cgroup-v2", applied: {}, skipped: [] };
    const skip = (limit: string, reason: string): void => {
      limits.skipped.push({ limit, reason });
    };
    const write = (c: Controller, limit: string, file: string, value: string): boolean => {
      if (!this.enabled.has(c)) {
        skip(limit, `${c} controller not delegated to ${this.parentDir}`);
        return false;
      }
      const err = writeValue(join(dir, file), value);
      if (err !== null) skip(limit, err);
      return err === null;
    };

    const cpus = resources.cpu?.cpus;
    if (cpus !== undefined) {
      const quota = Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
      if (write("cpu", "cpu.cpus", "cpu.max", `${quota} ${CPU_PERIOD_US}`)) limits.applied.cpus = cpus;
    }
    const setcpus = resources.cpu?.setcpus;
    if (setcpus !== undefined && write("cpuset", "cpu.setcpus", "cpuset.cpus", setcpus)) {
      limits.applied.setcpus = setcpus;
    }
    const mem = resources.memory;
    if (
      mem?.limitBytes !== undefined &&
      write("memory", "memory.limit", "memory.max", String(mem.limitBytes))
    ) {
      limits.applied.memoryBytes = mem.limitBytes;
    }
    if (mem?.swapBytes !== undefined) {
      if (this.enabled.has("memory") && !existsSync(join(dir, "memory.swap.max"))) {
        skip("memory.swap", "swap accounting is off (memory.swap.max missing)");
      } else if (write("memory", "memory.swap", "memory.swap.max", String(mem.swapBytes))) {
        limits.applied.swapBytes = mem.swapBytes;
      }
    }
    const pids = resources.pids?.limit;
    if (pids !== undefined && write("pids", "pids.limit", "pids.max", String(pids)))
      limits.applied.pids = pids;
    if (limits.skipped.length > 0) {
      limits.enforced = false;
      limits.reason = limits.skipped.map((s) => `${s.limit}: ${s.reason}`).join("; ");
    }
    return new V2Handle(dir, limits, this.deps);
  }
}

class V2Handle implements CgroupHandle {
  readonly dirs: string[];
  readonly procsFiles: string[];

  constructor(
    private readonly dir: string,
    readonly limits: LimitsReport,
    private readonly deps: V2Deps,
  ) {
    this.dirs = [dir];
    this.procsFiles = [join(dir, "cgroup.procs")];
  }

  members(): number[] {
    return readPids(join(this.dir, "cgroup.procs"));
  }

  cpuUsageNs(): number | null {
    const usec = readKeyed(join(this.dir, "cpu.stat")).get("usage_usec");
    return usec === undefined ? null : usec * 1000;
  }

  memoryUsageBytes(): number | null {
    return readNumber(join(this.dir, "memory.current"));
  }

  memoryLimitBytes(): number | null {
    return readNumber(join(this.dir, "memory.max"));
  }

  oomKills(): number {
    return readKeyed(join(this.dir, "memory.events")).get("oom_kill") ?? 0;
  }

  async remove(): Promise<void> {
    const err = await removeDir(this.dir, this.deps.sleep);
    if (err !== null) this.deps.log.warn("cgroup_remove_failed", { dir: this.dir, error: err });
  }
}

/** Enables `wanted` in dir's subtree_control, moving this process into a leaf when dir holds it. */
function enableBelow(dir: string, wanted: readonly Controller[], deps: V2Deps): string | null {
  const control = join(dir, "cgroup.subtree_control");
  const missing = (): Controller[] => wanted.filter((c) => !words(readText(control)).has(c));
  if (missing().length === 0) return null;
  const line = missing()
    .map((c) => `+${c}`)
    .join(" ");
  let err = writeValue(control, line);
  if (err?.startsWith("EBUSY") && deps.moveSelf) {
    const leaf = join(dir, MASTER_LEAF);
    const made = makeDir(leaf);
    if (made !== null) return made;
    const moved = writeValue(join(leaf, "cgroup.procs"), String(deps.pid));
    if (moved !== null) return `cannot move the master into ${leaf}: ${moved}`;
    deps.log.info("cgroup_master_moved", { to: leaf });
    err = writeValue(control, line);
    if (err?.startsWith("EBUSY")) {
      return `${dir} holds other processes, so its controllers cannot be enabled for instances (${err})`;
    }
  }
  // Enable one by one where the batch failed, to keep whatever can be had.
  if (err !== null) for (const c of missing()) writeValue(control, `+${c}`);
  return missing().length === wanted.length ? `cannot enable cgroup v2 controllers in ${dir}: ${err}` : null;
}

function words(text: string | null): Set<string> {
  return new Set((text ?? "").split(/\s+/).filter(Boolean));
}
