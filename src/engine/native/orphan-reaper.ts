// Reaps zombies that were reparented to this process (a child subreaper) from service process trees.
// Bun waits only for what it spawned, so these would pile up. We never waitpid(-1): only exact pids
// that are zombies, not spawned by Bun, and not in our own session (non-detached children of other
// code in the master share our session; every engine instance leads its own).

import { waitpidNoHang } from "../../../native/libc.ts";
import type { Clock, TimerHandle } from "../../lib/clock.ts";
import type { Logger } from "../../log/index.ts";
import { isSpawnedByBun } from "./children.ts";
import { childrenOf, readStat } from "./procfs.ts";

export interface OrphanReaperDeps {
  clock: Clock;
  log: Logger;
  /** How often to look for zombies between explicit reapNow() calls (default 2 s; 0 = never). */
  intervalMs?: number;
  /** Injected for tests; defaults to libc waitpid(pid, WNOHANG). */
  waitpid?: (pid: number) => number | null;
}

export class OrphanReaper {
  private timer: TimerHandle | undefined;
  private running = false;
  private readonly self = process.pid;
  private readonly selfSid: number;

  constructor(private readonly deps: OrphanReaperDeps) {
    this.selfSid = readStat(this.self)?.sid ?? this.self;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Reaps the adopted zombies now; returns their pids. */
  reapNow(): number[] {
    const waitpid = this.deps.waitpid ?? waitpidNoHang;
    const reaped: number[] = [];
    for (const pid of childrenOf(this.self)) {
      if (isSpawnedByBun(pid)) continue;
      const stat = readStat(pid);
      if (stat === null || stat.state !== "Z" || stat.ppid !== this.self || stat.sid === this.selfSid)
        continue;
      if (isSpawnedByBun(pid)) continue; // spawned between the two checks
      if (waitpid(pid) !== null) reaped.push(pid);
    }
    if (reaped.length > 0) this.deps.log.debug("orphans_reaped", { pids: reaped });
    return reaped;
  }

  private schedule(): void {
    const every = this.deps.intervalMs ?? 2000;
    if (!this.running || every <= 0) return;
    this.timer = this.deps.clock.setTimeout(() => {
      try {
        this.reapNow();
      } catch (err) {
        this.deps.log.warn("orphan_reap_failed", { error: err });
      }
      this.schedule();
    }, every);
  }
}
