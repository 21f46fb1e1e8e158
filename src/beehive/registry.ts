// The module registry: modules in registration order, each started under a keeper; shutdown stops
// them in reverse order within one deadline and reports the ones that missed it.

import type { Clock } from "../lib/clock.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import type { Logger } from "../log/index.ts";
import { type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
import type { BusContext } from "./context.ts";
import { type BeehiveModule, type KeeperState, ModuleKeeper } from "./keeper.ts";

export interface RegistryDeps {
  context: BusContext;
  log: Logger;
  clock: Clock;
  backoff?: Partial<BackoffOptions>;
}

export interface ModuleInfo {
  name: string;
  group: string;
  enabled: boolean;
  state: KeeperState | "disabled";
  restarts: number;
  lastError: string | null;
}

export interface StopReport {
  /** Modules whose `start` settled before the deadline, in stop order. */
  stopped: string[];
  /** Modules still running at the deadline, in stop order. */
  missed: string[];
}

interface Entry {
  module: BeehiveModule;
  keeper: ModuleKeeper | null;
}

export class ModuleRegistry {
  private readonly entries: Entry[] = [];
  private readonly log: Logger;
  private readonly backoff: BackoffOptions;
  private started = false;

  constructor(private readonly deps: RegistryDeps) {
    this.log = deps.log.child({ component: "beehive" });
    this.backoff = { ...DEFAULT_BACKOFF, ...deps.backoff };
  }

  register(module: BeehiveModule): void {
    if (this.entries.some((e) => e.module.name === module.name)) {
      throw new OpenEdgeError("ERR_CONFLICT", `module "${module.name}" is already registered`, {
        details: { module: module.name },
      });
    }
    this.entries.push({ module, keeper: null });
    if (!module.enabled) this.log.info("module_disabled", { module: module.name, group: module.group });
    else this.log.debug("module_registered", { module: module.name, group: module.group });
    // registered after startAll: it starts at once, last in order
    if (this.started && module.enabled) this.startEntry(this.entries[this.entries.length - 1] as Entry);
  }

  list(): ModuleInfo[] {
    return this.entries.map(({ module, keeper }) => ({
      name: module.name,
      group: module.group,
      enabled: module.enabled,
      state: module.enabled ? (keeper?.state ?? "idle") : "disabled",
      restarts: keeper?.restarts ?? 0,
      lastError: keeper?.lastError ?? null,
    }));
  }

  /** Adds every enabled module to the bus, then starts them in registration order. */
  startAll(): void {
    if (this.started) return;
    this.started = true;
    const enabled = this.entries.filter((e) => e.module.enabled);
    // queues first, so a module starting early can already send to one that starts later
    for (const e of enabled) this.deps.context.addModule(e.module.name, e.module.group);
    for (const e of enabled) this.startEntry(e);
    this.log.info("modules_started", { modules: enabled.map((e) => e.module.name) });
  }

  /** Stops modules in reverse start order; those not done within `deadlineMs` (in all) are reported. */
  async stopAll(deadlineMs: number): Promise<StopReport> {
    const report: StopReport = { stopped: [], missed: [] };
    let expired = false;
    let onExpire: () => void = () => {};
    const deadline = new Promise<false>((resolve) => {
      onExpire = () => resolve(false);
    });
    const timer = this.deps.clock.setTimeout(() => {
      expired = true;
      onExpire();
    }, deadlineMs);
    const running = this.entries.filter((e) => e.keeper !== null).reverse();
    for (const { module, keeper } of running) {
      const settled = (keeper as ModuleKeeper).stop();
      // releases a module blocked in receive() and senders blocked on its queue
      this.deps.context.cleanup(module.name);
      const inTime = expired
        ? await settledNow(settled)
        : await Promise.race([settled.then(() => true), deadline]);
      if (inTime) report.stopped.push(module.name);
      else {
        report.missed.push(module.name);
        this.log.warn("module_stop_deadline_missed", { module: module.name, deadlineMs });
      }
    }
    timer.cancel();
    this.started = false;
    for (const e of running) e.keeper = null;
    this.log.info("modules_stopped", { stopped: report.stopped, missed: report.missed });
    return report;
  }

  private startEntry(entry: Entry): void {
    if (entry.keeper !== null) return;
    const { context, clock } = this.deps;
    this.deps.context.addModule(entry.module.name, entry.module.group);
    entry.keeper = new ModuleKeeper({
      module: entry.module,
      context,
      log: this.log.child({ module: entry.module.name }),
      clock,
      backoff: this.backoff,
    });
    entry.keeper.start();
  }
}

/** Whether `p` has already settled (after letting pending callbacks run). */
async function settledNow(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}
