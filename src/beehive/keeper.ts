// Keeps one module running: `start` is long-running (it resolves when the module is done), so a start
// that throws or returns while nobody asked it to stop is restarted after an exponential backoff.

import type { Clock, TimerHandle } from "../lib/clock.ts";
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../log/index.ts";
import { type BackoffOptions, backoffDelay } from "./backoff.ts";
import type { BusContext } from "./context.ts";

export interface BeehiveModule {
  readonly name: string;
  readonly group: string;
  readonly enabled: boolean;
  /** Runs the module; resolves when it is done (after `stop`), rejects when it fails. */
  start(ctx: BusContext): Promise<void>;
  stop(): Promise<void> | void;
}

export type KeeperState = "idle" | "running" | "backoff" | "stopping" | "stopped";

export interface KeeperDeps {
  module: BeehiveModule;
  context: BusContext;
  log: Logger;
  clock: Clock;
  backoff: BackoffOptions;
}

export class ModuleKeeper {
  state: KeeperState = "idle";
  restarts = 0;
  lastError: string | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private timer: TimerHandle | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly deps: KeeperDeps) {}

  get name(): string {
    return this.deps.module.name;
  }

  /** Starts the keep-alive loop (once). */
  start(): void {
    if (this.loop !== null) return;
    this.loop = this.run();
  }

  /**
   * Asks the module to stop and the loop not to restart it; the promise resolves when `start` has
   * settled (or at once if it never ran).
   */
  stop(): Promise<void> {
    const { module, log } = this.deps;
    if (this.stopping) return this.loop ?? Promise.resolve();
    this.stopping = true;
    const wasRunning = this.state === "running";
    this.state = "stopping";
    this.timer?.cancel();
    this.wake?.();
    if (wasRunning) {
      try {
        const result = module.stop();
        if (result instanceof Promise) {
          result.catch((error: unknown) =>
            log.warn("module_stop_failed", { module: module.name, error: errorMessage(error) }),
          );
        }
      } catch (error) {
        log.warn("module_stop_failed", { module: module.name, error: errorMessage(error) });
      }
    }
    return this.loop ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    const { module, context, log, clock, backoff } = this.deps;
    let attempt = 0;
    while (!this.stopping) {
      const startedAt = clock.monotonic();
      this.state = "running";
      log.info("module_started", { module: module.name, group: module.group, restarts: this.restarts });
      let failure: unknown;
      let threw = false;
      try {
        await module.start(context);
      } catch (error) {
        threw = true;
        failure = error;
      }
      if (this.stopping) break;
      const ranMs = clock.monotonic() - startedAt;
      if (ranMs >= backoff.resetAfterMs) attempt = 0;
      const delayMs = backoffDelay(attempt, backoff);
      attempt++;
      this.restarts++;
      this.lastError = threw ? errorMessage(failure) : "start returned";
      log.warn(threw ? "module_failed" : "module_exited", {
        module: module.name,
        error: this.lastError,
        ranMs,
        restarts: this.restarts,
        delayMs,
      });
      this.state = "backoff";
      await this.sleep(delayMs);
    }
    this.state = "stopped";
    log.info("module_stopped", { module: module.name });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.timer = null;
        this.wake = null;
        resolve();
      };
      this.wake = () => {
        this.timer?.cancel();
        done();
      };
      this.timer = this.deps.clock.setTimeout(done, ms);
    });
  }
}
