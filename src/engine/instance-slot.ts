// One supervised instance: starts it on the engine, watches it end, and restarts it by the service's
// policy (backoff via the injected clock, retry budget, counters reset after a stable run).

import type { Clock, TimerHandle } from "../lib/clock.ts";
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../log/index.ts";
import type { Engine, RunningInstance } from "./engine.ts";
import { backoffDelay, shouldRestart } from "./restart-policy.ts";
import type { ExitInfo, ServiceSpec } from "./types.ts";

export type InstanceStatus =
  | "starting"
  | "running"
  | "restarting"
  | "stopping"
  | "stopped"
  | "exited"
  | "failed";

export interface StatusEvent {
  service: string;
  instance: string;
  status: InstanceStatus;
  previous: InstanceStatus;
  restarts: number;
  /** The exit that led here (restarting, exited, failed, stopped). */
  exit?: ExitInfo;
  /** Epoch milliseconds. */
  time: number;
}

export interface SlotDeps {
  engine: Engine;
  clock: Clock;
  log: Logger;
  random: () => number;
  /** A run at least this long counts as stable: the next exit starts from a fresh retry budget. */
  stableMs: number;
  emit(event: StatusEvent): void;
  /** Called whenever the set of running instances changes (the state file follows it). */
  changed(): void;
}

export interface LastExit extends ExitInfo {
  time: number;
}

export class InstanceSlot {
  status: InstanceStatus = "starting";
  /** Restarts since the slot was created (shown to operators; never reset). */
  restarts = 0;
  running: RunningInstance | undefined;
  lastExit: LastExit | undefined;
  /** Epoch ms of the current or last start. */
  startedAt: number | undefined;

  /** Restarts since the last stable run (what retryMax and backoff count). */
  private consecutive = 0;
  private runningSince = 0;
  private timer: TimerHandle | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly spec: ServiceSpec,
    readonly name: string,
    private readonly env: Record<string, string>,
    private readonly deps: SlotDeps,
  ) {}

  /** Milliseconds in status running, 0 otherwise. */
  runningForMs(): number {
    return this.status === "running" ? this.deps.clock.monotonic() - this.runningSince : 0;
  }

  /** First start; resolves once the attempt is over (started, or failed and handled by the policy). */
  start(): Promise<void> {
    return this.launch();
  }

  /** Ends the instance (and any pending restart) for good. Idempotent. */
  stop(graceMs: number): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.setStatus("stopping");
    this.stopping = (async () => {
      if (this.starting !== undefined) await this.starting;
      const instance = this.running;
      if (instance !== undefined) {
        const exit = await instance.stop(graceMs);
        this.recordExit(instance, exit);
      }
      this.setStatus("stopped", this.lastExit);
      this.deps.log.info("instance_stopped", { service: this.spec.name, instance: this.name });
    })();
    return this.stopping;
  }

  private launch(): Promise<void> {
    this.timer = undefined;
    this.setStatus("starting");
    const attempt = this.attempt().finally(() => {
      this.starting = undefined;
    });
    this.starting = attempt;
    return attempt;
  }

  private async attempt(): Promise<void> {
    const { engine, clock, log } = this.deps;
    let instance: RunningInstance;
    try {
      instance = await engine.startInstance(this.spec, this.name, this.env);
    } catch (err) {
      if (this.stopped) return;
      log.error("instance_start_failed", { service: this.spec.name, instance: this.name, error: err });
      const exit: ExitInfo = { code: null, signal: null, error: errorMessage(err) };
      this.lastExit = { ...exit, time: clock.now() };
      this.afterExit(exit, 0);
      return;
    }
    this.running = instance;
    this.startedAt = instance.startedAt;
    this.runningSince = clock.monotonic();
    this.deps.changed();
    // A stop that arrived while starting owns the instance now; it ends it.
    if (this.stopped) return;
    this.setStatus("running");
    log.info("instance_started", {
      service: this.spec.name,
      instance: this.name,
      pid: instance.pid,
      container_id: instance.containerId,
    });
    void instance.wait().then((exit) => this.onEnded(instance, exit));
  }

  private onEnded(instance: RunningInstance, exit: ExitInfo): void {
    if (this.running !== instance) return;
    const ranMs = this.deps.clock.monotonic() - this.runningSince;
    this.recordExit(instance, exit);
    if (this.stopped) return;
    this.deps.log.warn("instance_exited", {
      service: this.spec.name,
      instance: this.name,
      code: exit.code,
      signal: exit.signal,
      oom_killed: exit.oomKilled,
      ran_ms: Math.round(ranMs),
    });
    this.afterExit(exit, ranMs);
  }

  private recordExit(instance: RunningInstance, exit: ExitInfo): void {
    if (this.running !== instance) return;
    this.running = undefined;
    this.lastExit = { ...exit, time: this.deps.clock.now() };
    this.deps.changed();
  }

  /** The policy step: restart after a backoff, or settle as exited / failed. */
  private afterExit(exit: ExitInfo, ranMs: number): void {
    const { policy, retryMax, backoff } = this.spec.restart;
    if (ranMs >= this.deps.stableMs) this.consecutive = 0;
    if (!shouldRestart(policy, exit)) {
      this.setStatus(exit.error === undefined ? "exited" : "failed", exit);
      return;
    }
    if (retryMax > 0 && this.consecutive >= retryMax) {
      this.deps.log.error("instance_gave_up", {
        service: this.spec.name,
        instance: this.name,
        restarts: this.consecutive,
        retry_max: retryMax,
      });
      this.setStatus("failed", exit);
      return;
    }
    this.consecutive++;
    this.restarts++;
    const delay = backoffDelay(backoff, this.consecutive, this.deps.random);
    this.deps.log.info("instance_restart_scheduled", {
      service: this.spec.name,
      instance: this.name,
      attempt: this.consecutive,
      delay_ms: delay,
    });
    this.setStatus("restarting", exit);
    this.timer = this.deps.clock.setTimeout(() => void this.launch(), delay);
  }

  private setStatus(status: InstanceStatus, exit?: ExitInfo): void {
    const previous = this.status;
    this.status = status;
    this.deps.emit({
      service: this.spec.name,
      instance: this.name,
      status,
      previous,
      restarts: this.restarts,
      ...(exit === undefined ? {} : { exit }),
      time: this.deps.clock.now(),
    });
  }
}
