// The instance pool of one function: `min` warm instances, more on demand up to `max`, callers queued
// (bounded) while all are busy, idle extras stopped after `idletime`, crashed or hung instances replaced.
// Instances are `<service>.<function>.<n>`, n the lowest id not held (a stopping instance still holds it).

import { join } from "node:path";
import type { Codec } from "../beehive/index.ts";
import type { BusyPoller } from "../lib/busy-poll.ts";
import { type Clock, systemClock, type TimerHandle } from "../lib/clock.ts";
import { errorMessage, isOpenEdgeError, OpenEdgeError } from "../lib/errors.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { ADDRESS_ENV, type CallOutcome, type InvokeCall } from "./protocol.ts";
import { RuntimeClient, type RuntimeLink } from "./runtime-client.ts";

/** Starts and stops dynamic instances of a service (the master's supervisor, or its REST API). */
export interface InstanceStarter {
  start(service: string, instance: string, env: Record<string, string>): Promise<void>;
  stop(service: string, instance: string): Promise<void>;
  /** The instance's supervision status (`running`, `restarting`, `exited`, …); absent when unknown. */
  status?(service: string, instance: string): string | undefined;
}

/**
 * Connects to the runtime listening on `socketPath`, retrying until `deadlineMs` has passed, or until
 * `gone` names a reason to stop trying (the instance ended before it listened).
 */
export type RuntimeConnector = (
  socketPath: string,
  deadlineMs: number,
  gone?: () => string | undefined,
) => Promise<RuntimeLink>;

/** Statuses in which a starting instance will not come to listen: its process has ended. */
const ENDED = new Set(["restarting", "exited", "failed", "stopped"]);

export interface PoolOptions {
  service: string;
  functionName: string;
  min: number;
  max: number;
  /** An idle instance above `min` is stopped once idle this long. */
  idleTimeMs: number;
  /** How often idle instances are checked (OpenEdge's `evicttime`); absent: exactly at expiry. */
  evictTimeMs?: number;
  /** Per call; passed to the runtime, which enforces it. */
  timeoutMs: number;
  /** How long past `timeoutMs` an unanswered call waits before its instance counts as hung. */
  hangGraceMs?: number;
  /** How long a new instance may take to listen. */
  startTimeoutMs?: number;
  /** Callers allowed to wait while all `max` instances are busy; more are refused with ERR_QUEUE_FULL. */
  queueMax?: number;
  /** Where instance sockets go (`<dir>/<instance>.sock`; keep it short: 107 bytes at most). */
  socketDir: string;
  /** After a failed start, no new start for this long. */
  restartDelayMs?: number;
}

export interface PoolDeps {
  starter: InstanceStarter;
  connect: RuntimeConnector;
  clock?: Clock;
  log?: Logger;
}

export interface PoolStats {
  instances: number;
  idle: number;
  busy: number;
  starting: number;
  stopping: number;
  waiting: number;
  started: number;
  replaced: number;
  evicted: number;
  rejected: number;
  /** The last failed start: which instance, why, when (epoch ms) — a runtime's own startup error is
   * in that instance's log. */
  lastStartError?: { instance: string; error: string; time: number };
}

type State = "starting" | "idle" | "busy" | "stopping";

interface Instance {
  id: number;
  name: string;
  socket: string;
  state: State;
  link: RuntimeLink | null;
  idleSince: number;
}

interface Waiter {
  call: InvokeCall;
  resolve: (outcome: CallOutcome) => void;
  reject: (error: Error) => void;
}

export class FunctionPool {
  private readonly instances = new Map<number, Instance>();
  private readonly waiters: Waiter[] = [];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly o: Required<Omit<PoolOptions, "evictTimeMs">> & { evictTimeMs?: number };
  private sweepTimer: TimerHandle | null = null;
  private retryTimer: TimerHandle | null = null;
  private lastStartError: PoolStats["lastStartError"];
  private startBlockedUntil = 0;
  private closed = false;
  private readonly counters = { started: 0, replaced: 0, evicted: 0, rejected: 0 };

  constructor(
    options: PoolOptions,
    private readonly deps: PoolDeps,
  ) {
    this.o = { hangGraceMs: 2_000, startTimeoutMs: 10_000, queueMax: 100, restartDelayMs: 1_000, ...options };
    if (this.o.max < 1 || this.o.min < 0 || this.o.min > this.o.max) {
      throw new OpenEdgeError(
        "ERR_CONFIG",
        `function "${options.functionName}": instance needs 0 <= min <= max, max >= 1`,
        {
          details: { min: this.o.min, max: this.o.max },
        },
      );
    }
    this.clock = deps.clock ?? systemClock;
    this.log = (deps.log ?? silentLogger).child({ service: options.service, function: options.functionName });
  }

  /** Starts the `min` warm instances; resolves when each is ready or has failed (failures are logged). */
  async start(): Promise<void> {
    const starts: Promise<void>[] = [];
    while (this.live() < this.o.min) starts.push(this.startInstance());
    await Promise.all(starts);
  }

  /**
   * Runs a call on an instance: resolves with the runtime's outcome (a handler's error is an `ok:
   * false` outcome). Rejects with ERR_QUEUE_FULL (too many waiting), ERR_TIMEOUT (the instance hung;
   * it is replaced), ERR_CLOSED (it died during the call, or the pool closed), ERR_ENGINE (no instance
   * could be started).
   */
  invoke(call: InvokeCall): Promise<CallOutcome> {
    if (this.closed) return Promise.reject(this.closedError());
    // callers that an instance now starting (or still startable) will take do not count as queued
    const coming = this.count("starting") + Math.max(0, this.o.max - this.live());
    if (this.idleInstance() === undefined && this.waiters.length >= this.o.queueMax + coming) {
      this.counters.rejected++;
      return Promise.reject(
        new OpenEdgeError(
          "ERR_QUEUE_FULL",
          `function "${this.o.functionName}": all ${this.o.max} instances busy and ${this.o.queueMax} calls waiting`,
          { details: { function: this.o.functionName, waiting: this.waiters.length, max: this.o.max } },
        ),
      );
    }
    return new Promise<CallOutcome>((resolve, reject) => {
      this.waiters.push({ call, resolve, reject });
      this.pump();
    });
  }

  stats(): PoolStats {
    const count = (s: State) => [...this.instances.values()].filter((i) => i.state === s).length;
    return {
      instances: this.live(),
      idle: count("idle"),
      busy: count("busy"),
      starting: count("starting"),
      stopping: count("stopping"),
      waiting: this.waiters.length,
      ...this.counters,
      ...(this.lastStartError === undefined ? {} : { lastStartError: this.lastStartError }),
    };
  }

  /** Instance names by state (for inspect and tests). */
  names(state?: State): string[] {
    return [...this.instances.values()]
      .filter((i) => state === undefined || i.state === state)
      .sort((a, b) => a.id - b.id)
      .map((i) => i.name);
  }

  /** Refuses new calls, fails waiting ones, stops every instance. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweepTimer?.cancel();
    this.retryTimer?.cancel();
    for (const w of this.waiters.splice(0)) w.reject(this.closedError());
    await Promise.all([...this.instances.values()].map((i) => this.stopInstance(i)));
  }

  // --- dispatch -------------------------------------------------------------------------------

  private pump(): void {
    if (this.closed) return;
    for (;;) {
      const inst = this.idleInstance();
      const waiter = inst === undefined ? undefined : this.waiters.shift();
      if (inst === undefined || waiter === undefined) break;
      this.run(inst, waiter);
    }
    let needed = this.waiters.length - this.count("starting");
    while (needed > 0 && this.live() < this.o.max && this.mayStart()) {
      void this.startInstance();
      needed--;
    }
  }

  /** The most recently used idle instance, so extras stay idle and are evicted. */
  private idleInstance(): Instance | undefined {
    let best: Instance | undefined;
    for (const i of this.instances.values()) {
      if (i.state === "idle" && (best === undefined || i.idleSince >= best.idleSince)) best = i;
    }
    return best;
  }

  private run(inst: Instance, waiter: Waiter): void {
    inst.state = "busy";
    const link = inst.link as RuntimeLink;
    link.call({ ...waiter.call, timeout: this.o.timeoutMs }, this.o.timeoutMs + this.o.hangGraceMs).then(
      (outcome) => {
        waiter.resolve(outcome);
        if (inst.state !== "busy") return;
        inst.state = "idle";
        inst.idleSince = this.clock.monotonic();
        this.pump();
        this.scheduleSweep();
      },
      (error: unknown) => {
        const hung = isOpenEdgeError(error, "ERR_TIMEOUT");
        const reason = hung ? "hung" : "crashed";
        waiter.reject(
          new OpenEdgeError(
            hung ? "ERR_TIMEOUT" : "ERR_CLOSED",
            hung
              ? `function "${this.o.functionName}": instance "${inst.name}" gave no answer within ${this.o.timeoutMs + this.o.hangGraceMs} ms`
              : `function "${this.o.functionName}": instance "${inst.name}" went away during the call`,
            { cause: error, details: { function: this.o.functionName, instance: inst.name, reason } },
          ),
        );
        this.replace(inst, reason);
      },
    );
  }

  // --- instances ------------------------------------------------------------------------------

  private live(): number {
    return this.instances.size - this.count("stopping");
  }

  private count(state: State): number {
    let n = 0;
    for (const i of this.instances.values()) if (i.state === state) n++;
    return n;
  }

  private mayStart(): boolean {
    return this.clock.monotonic() >= this.startBlockedUntil;
  }

  private freeId(): number {
    let id = 0;
    while (this.instances.has(id)) id++;
    return id;
  }

  private async startInstance(): Promise<void> {
    const id = this.freeId();
    const name = `${this.o.service}.${this.o.functionName}.${id}`;
    const inst: Instance = {
      id,
      name,
      socket: join(this.o.socketDir, `${name}.sock`),
      state: "starting",
      link: null,
      idleSince: 0,
    };
    this.instances.set(id, inst);
    this.counters.started++;
    const startedAt = this.clock.monotonic();
    let engineMs = 0;
    try {
      await this.deps.starter.start(this.o.service, name, { [ADDRESS_ENV]: `unix://${inst.socket}` });
      engineMs = this.clock.monotonic() - startedAt;
      const status = this.deps.starter.status?.bind(this.deps.starter);
      const gone =
        status === undefined
          ? undefined
          : () => {
              const now = status(this.o.service, name);
              return now !== undefined && ENDED.has(now)
                ? `instance "${name}" ended before it listened (${now}): its log says why`
                : undefined;
            };
      inst.link = await this.deps.connect(inst.socket, this.o.startTimeoutMs, gone);
    } catch (error) {
      this.startFailed(inst, error);
      return;
    }
    if (this.closed || inst.state !== "starting") {
      inst.link.close(); // close() may have begun stopping it while it started
      await this.stopInstance(inst);
      return;
    }
    inst.link.onClose(() => {
      // a busy instance's failure is handled where its call fails
      if (inst.state === "idle") this.replace(inst, "exited");
    });
    inst.state = "idle";
    inst.idleSince = this.clock.monotonic();
    this.log.info("function_instance_ready", {
      instance: name,
      // ms: from asking the engine to the runtime accepting; engineMs: until the engine had started it
      ms: Math.round(this.clock.monotonic() - startedAt),
      engineMs: Math.round(engineMs),
    });
    this.pump();
    this.scheduleSweep();
  }

  private startFailed(inst: Instance, error: unknown): void {
    this.log.error("function_instance_start_failed", { instance: inst.name, error: errorMessage(error) });
    this.lastStartError = { instance: inst.name, error: errorMessage(error), time: this.clock.now() };
    void this.stopInstance(inst);
    if (this.closed) return;
    this.startBlockedUntil = this.clock.monotonic() + this.o.restartDelayMs;
    if (this.live() === 0) {
      // nothing will ever serve the waiting callers: fail them rather than let them hang
      const failure = new OpenEdgeError(
        "ERR_ENGINE",
        `function "${this.o.functionName}": cannot start an instance of service "${this.o.service}": ${errorMessage(error)}`,
        { cause: error, details: { function: this.o.functionName, instance: inst.name } },
      );
      for (const w of this.waiters.splice(0)) w.reject(failure);
    }
    this.retryLater();
  }

  /** After the restart delay: top up to `min` and serve whoever waits. */
  private retryLater(): void {
    if (this.retryTimer !== null || this.closed) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      this.topUp();
    }, this.o.restartDelayMs);
  }

  private topUp(): void {
    if (this.closed) return;
    while (this.live() < this.o.min && this.mayStart()) void this.startInstance();
    if (this.live() < this.o.min) this.retryLater();
    this.pump();
  }

  private replace(inst: Instance, reason: string): void {
    if (inst.state === "stopping" || this.closed) return;
    this.counters.replaced++;
    this.log.warn("function_instance_replaced", { instance: inst.name, reason });
    void this.stopInstance(inst);
    this.topUp();
  }

  /** Stops the instance; its id stays taken until the stop is done, so no new one shares the name. */
  private async stopInstance(inst: Instance): Promise<void> {
    if (inst.state === "stopping") return;
    inst.state = "stopping";
    inst.link?.close();
    try {
      await this.deps.starter.stop(this.o.service, inst.name);
    } catch (error) {
      this.log.warn("function_instance_stop_failed", { instance: inst.name, error: errorMessage(error) });
    } finally {
      this.instances.delete(inst.id);
      this.pump();
    }
  }

  // --- idle eviction --------------------------------------------------------------------------

  private scheduleSweep(): void {
    if (this.sweepTimer !== null || this.closed || this.live() <= this.o.min) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const i of this.instances.values()) if (i.state === "idle") oldest = Math.min(oldest, i.idleSince);
    if (oldest === Number.POSITIVE_INFINITY) return;
    const delay = this.o.evictTimeMs ?? Math.max(0, oldest + this.o.idleTimeMs - this.clock.monotonic());
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweepTimer = null;
      this.sweep();
    }, delay);
  }

  private sweep(): void {
    const now = this.clock.monotonic();
    const idle = [...this.instances.values()]
      .filter((i) => i.state === "idle" && now - i.idleSince >= this.o.idleTimeMs)
      .sort((a, b) => a.idleSince - b.idleSince);
    for (const inst of idle) {
      if (this.live() <= this.o.min) break;
      this.counters.evicted++;
      this.log.info("function_instance_evicted", {
        instance: inst.name,
        idleMs: Math.round(now - inst.idleSince),
      });
      void this.stopInstance(inst);
    }
    this.scheduleSweep();
  }

  private closedError(): OpenEdgeError {
    return new OpenEdgeError("ERR_CLOSED", `function "${this.o.functionName}": pool is closed`);
  }
}

/** A RuntimeConnector over RuntimeClient (real sockets). */
export function socketConnector(
  options: { clock?: Clock; retryMs?: number; codec?: Codec; busyPoll?: BusyPoller } = {},
): RuntimeConnector {
  return (socketPath, deadlineMs, gone) =>
    RuntimeClient.connect(socketPath, { deadlineMs, ...options, ...(gone === undefined ? {} : { gone }) });
}
