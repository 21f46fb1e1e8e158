// One running native instance: its process tree, stop (SIGTERM to the group, SIGKILL after grace),
// stats from /proc and its cgroup, and the cleanup that follows its end (leftover processes, zombies,
// log pipes, cgroup, instance dir) before wait() resolves.

import { constants } from "node:os";
import type { Subprocess } from "bun";
import type { Clock, TimerHandle } from "../../lib/clock.ts";
import { OpenEdgeError } from "../../lib/errors.ts";
import type { Logger } from "../../log/index.ts";
import type { RunningInstance } from "../engine.ts";
import type { ExitInfo, InstanceRecord, InstanceStats, LimitsReport } from "../types.ts";
import { untrackSpawned } from "./children.ts";
import { removeInstanceDir } from "./instance-dir.ts";
import { type InstanceIdentity, instanceMembers, recentProcesses, signalInstance } from "./members.ts";
import type { OrphanReaper } from "./orphan-reaper.ts";
import type { OutputCapture } from "./output.ts";
import { CLOCK_TICKS_PER_SECOND, readRssBytes, readStat } from "./procfs.ts";

// Each poll scans /proc; 50 ms keeps a long grace period cheap on a small gateway.
const POLL_MS = 50;
/** How long SIGKILLed leftovers may take to vanish before we log them as stuck. */
const KILL_WAIT_MS = 5000;
const DRAIN_MS = 1000;

export interface NativeInstanceInit {
  service: string;
  instance: string;
  proc: Subprocess;
  startTime: number;
  startedAt: number;
  identity: InstanceIdentity;
  limits: LimitsReport;
  instanceDir: string;
  output: OutputCapture;
  clock: Clock;
  log: Logger;
  reaper: OrphanReaper;
}

export class NativeInstance implements RunningInstance {
  readonly service: string;
  readonly instance: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly limits: LimitsReport;

  private readonly done: Promise<ExitInfo>;
  private ended = false;
  private stopDeadline: number | undefined;
  private killTimer: TimerHandle | undefined;
  private lastSample: { at: number; cpuNs: number };

  constructor(private readonly init: NativeInstanceInit) {
    this.service = init.service;
    this.instance = init.instance;
    this.pid = init.proc.pid;
    this.startedAt = init.startedAt;
    this.limits = init.limits;
    this.lastSample = { at: init.clock.monotonic(), cpuNs: 0 };
    this.done = this.finish();
  }

  wait(): Promise<ExitInfo> {
    return this.done;
  }

  async stop(graceMs: number): Promise<ExitInfo> {
    if (!this.ended && this.stopDeadline === undefined) {
      const { clock, log, identity } = this.init;
      this.stopDeadline = clock.monotonic() + graceMs;
      log.info("instance_stopping", { service: this.service, instance: this.instance, grace_ms: graceMs });
      signalInstance(identity, "SIGTERM", instanceMembers(identity, true));
      this.killTimer = clock.setTimeout(() => {
        if (this.ended) return;
        log.warn("instance_kill", { service: this.service, instance: this.instance, grace_ms: graceMs });
        signalInstance(identity, "SIGKILL", instanceMembers(identity, true));
      }, graceMs);
    }
    return this.done;
  }

  async stats(): Promise<InstanceStats> {
    if (this.ended) {
      throw new OpenEdgeError("ERR_NOT_FOUND", `instance "${this.instance}" has ended`, {
        details: { service: this.service, instance: this.instance },
      });
    }
    const { identity, clock } = this.init;
    // membership for figures may be a fraction of a second old; signals always scan afresh
    const pids = instanceMembers(identity, false, recentProcesses);
    let rss = 0;
    let ticks = 0;
    for (const pid of pids) {
      rss += readRssBytes(pid) ?? 0;
      const st = readStat(pid);
      if (st !== null) ticks += st.utimeTicks + st.stimeTicks;
    }
    const cpuNs = identity.cgroup?.cpuUsageNs() ?? (ticks * 1e9) / CLOCK_TICKS_PER_SECOND;
    const now = clock.monotonic();
    const elapsedMs = now - this.lastSample.at;
    // Without a cgroup, exited members take their ticks with them: never report a negative rate.
    const cpuPercent =
      elapsedMs > 0 ? Math.max(0, (cpuNs - this.lastSample.cpuNs) / 1e6 / elapsedMs) * 100 : 0;
    this.lastSample = { at: now, cpuNs };
    const stats: InstanceStats = { cpuPercent, memRssBytes: rss, processes: pids.length };
    const usage = identity.cgroup?.memoryUsageBytes();
    if (usage !== undefined && usage !== null) stats.memUsageBytes = usage;
    const limit = identity.cgroup?.memoryLimitBytes();
    if (limit !== undefined && limit !== null) stats.memLimitBytes = limit;
    return stats;
  }

  record(): InstanceRecord {
    const cgroup = this.init.identity.cgroup;
    return {
      engine: "native",
      service: this.service,
      instance: this.instance,
      pid: this.pid,
      startTime: this.init.startTime,
      ...(cgroup === null ? {} : { cgroups: [...cgroup.dirs] }),
    };
  }

  private async finish(): Promise<ExitInfo> {
    const { proc, clock, log, identity, reaper } = this.init;
    await proc.exited;
    untrackSpawned(this.pid);
    const exit: ExitInfo = { code: proc.exitCode ?? null, signal: signalName(proc.signalCode) };
    try {
      await this.endLeftovers();
      if (identity.cgroup !== null && identity.cgroup.oomKills() > 0) exit.oomKilled = true;
      reaper.reapNow();
      await this.init.output.close(DRAIN_MS, clock);
      await identity.cgroup?.remove();
      removeInstanceDir(this.init.instanceDir);
    } catch (err) {
      log.error("instance_cleanup_failed", { service: this.service, instance: this.instance, error: err });
    } finally {
      this.ended = true;
      this.killTimer?.cancel();
    }
    log.info("instance_ended", {
      service: this.service,
      instance: this.instance,
      pid: this.pid,
      code: exit.code,
      signal: exit.signal,
      oom_killed: exit.oomKilled,
    });
    return exit;
  }

  /**
   * The leader is gone; what it left must go too. During a stop the rest keeps its grace period,
   * otherwise (a crash) it is killed at once so the restart starts clean.
   */
  private async endLeftovers(): Promise<void> {
    const { clock, log, identity, reaper } = this.init;
    const deadline = this.stopDeadline;
    while (
      deadline !== undefined &&
      clock.monotonic() < deadline &&
      instanceMembers(identity, true).length > 0
    ) {
      await clock.sleep(POLL_MS);
    }
    const until = clock.monotonic() + KILL_WAIT_MS;
    for (;;) {
      const members = instanceMembers(identity, true);
      if (members.length === 0) return;
      if (clock.monotonic() >= until) {
        log.error("instance_leftovers", { service: this.service, instance: this.instance, pids: members });
        return;
      }
      signalInstance(identity, "SIGKILL", members);
      await clock.sleep(POLL_MS);
      reaper.reapNow();
    }
  }
}

function signalName(signal: number | string | null | undefined): string | null {
  if (signal === null || signal === undefined) return null;
  if (typeof signal === "string") return signal;
  const name = Object.entries(constants.signals).find(([, n]) => n === signal)?.[0];
  return name ?? `SIG${signal}`;
}
