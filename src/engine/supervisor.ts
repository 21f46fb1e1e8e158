// Runs services on any engine: replicas and dynamic instances, each in an InstanceSlot that applies the
// restart policy; status events, inspect output and the state file for the master.

import type { Clock } from "../lib/clock.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import { KeyedSerial } from "../lib/keyed-serial.ts";
import type { Logger } from "../log/index.ts";
import type { Engine } from "./engine.ts";
import { type HealthOptions, waitHealthy } from "./health.ts";
import { type InstanceInspect, inspectSlot } from "./inspect.ts";
import { InstanceSlot, type InstanceStatus, type StatusEvent } from "./instance-slot.ts";
import { replicaNames } from "./restart-policy.ts";
import type { InstanceRecord, ServiceSpec } from "./types.ts";

/** The system environment of one instance (OPENEDGE_* keys), composed by the master. */
export type EnvFor = (instance: string) => Record<string, string>;

export interface StateRecorder {
  save(records: readonly InstanceRecord[]): void;
}

export interface SupervisorDeps {
  engine: Engine;
  clock: Clock;
  log: Logger;
  /** Jitter source, [0, 1); Math.random by default. */
  random?: () => number;
  /** Run time after which an instance's retry budget and backoff start over (default 60 s). */
  stableMs?: number;
  /** Receives the running instances after every change (a StateFile in the master). */
  state?: StateRecorder;
}

export interface ServiceInspect {
  name: string;
  image: string;
  replica: number;
  instances: InstanceInspect[];
}

export const DEFAULT_STABLE_MS = 60_000;

interface ServiceEntry {
  spec: ServiceSpec;
  envFor: EnvFor;
  slots: Map<string, InstanceSlot>;
  /** Set when stopService begins: no instance may be added after that. */
  stopping: boolean;
}

export class Supervisor {
  private readonly services = new Map<string, ServiceEntry>();
  private readonly listeners = new Set<(event: StatusEvent) => void>();
  private readonly perInstance = new KeyedSerial();
  private readonly log: Logger;

  constructor(private readonly deps: SupervisorDeps) {
    this.log = deps.log.child({ component: "supervisor" });
  }

  /** Prepares the service on the engine and starts its replicas; resolves after each first attempt. */
  async startService(spec: ServiceSpec, envFor: EnvFor): Promise<void> {
    if (this.services.has(spec.name)) {
      throw new OpenEdgeError("ERR_CONFLICT", `service "${spec.name}" is already running`, {
        details: { service: spec.name },
      });
    }
    await this.deps.engine.prepare(spec);
    const entry: ServiceEntry = { spec, envFor, slots: new Map(), stopping: false };
    this.services.set(spec.name, entry);
    this.log.info("service_starting", { service: spec.name, image: spec.image, replica: spec.replica });
    await Promise.all(replicaNames(spec.name, spec.replica).map((name) => this.addSlot(entry, name, {})));
  }

  /** Stops every instance of the service in parallel, each with the grace of the spec (or graceMs). */
  async stopService(name: string, graceMs?: number): Promise<void> {
    const entry = this.services.get(name);
    if (entry === undefined) return;
    entry.stopping = true;
    const grace = graceMs ?? entry.spec.graceMs;
    await Promise.all([...entry.slots.values()].map((slot) => slot.stop(grace)));
    if (this.services.get(name) === entry) this.services.delete(name);
    this.log.info("service_stopped", { service: name });
  }

  /** Stops all services one by one, the last started first. */
  async stopAll(graceMs?: number): Promise<void> {
    for (const name of [...this.services.keys()].reverse()) await this.stopService(name, graceMs);
  }

  /**
   * Starts a dynamic instance of a running service; `env` adds to (and wins over) the instance's
   * system environment. An instance of the same name is stopped and replaced.
   */
  async startInstance(service: string, instance: string, env: Record<string, string>): Promise<void> {
    // one at a time per instance name: concurrent starts would each replace the same slot and orphan
    // the losers
    return this.perInstance.run(`${service}\0${instance}`, async () => {
      const entry = this.entry(service);
      const existing = entry.slots.get(instance);
      if (existing !== undefined) {
        await existing.stop(entry.spec.graceMs);
        if (entry.slots.get(instance) === existing) entry.slots.delete(instance);
      }
      if (entry.stopping || this.services.get(service) !== entry) {
        throw new OpenEdgeError(
          "ERR_NOT_FOUND",
          `service "${service}" stopped while "${instance}" was starting`,
          {
            details: { service, instance },
          },
        );
      }
      await this.addSlot(entry, instance, env);
    });
  }

  async stopInstance(service: string, instance: string, graceMs?: number): Promise<void> {
    return this.perInstance.run(`${service}\0${instance}`, async () => {
      const entry = this.entry(service);
      const slot = entry.slots.get(instance);
      if (slot === undefined) {
        throw new OpenEdgeError("ERR_NOT_FOUND", `service "${service}" has no instance "${instance}"`, {
          details: { service, instance },
        });
      }
      await slot.stop(graceMs ?? entry.spec.graceMs);
      if (entry.slots.get(instance) === slot) entry.slots.delete(instance);
    });
  }

  serviceNames(): string[] {
    return [...this.services.keys()];
  }

  spec(service: string): ServiceSpec | undefined {
    return this.services.get(service)?.spec;
  }

  /** Status of each instance of a service, undefined when the service is not supervised. */
  instances(
    service: string,
  ): { name: string; status: InstanceStatus; restarts: number; runningForMs: number }[] | undefined {
    const entry = this.services.get(service);
    if (entry === undefined) return undefined;
    return [...entry.slots.values()].map((s) => ({
      name: s.name,
      status: s.status,
      restarts: s.restarts,
      runningForMs: s.runningForMs(),
    }));
  }

  /** Plain JSON for /v1/system/inspect, stats sampled now. */
  async inspect(): Promise<ServiceInspect[]> {
    return Promise.all(
      [...this.services.values()].map(async (entry) => ({
        name: entry.spec.name,
        image: entry.spec.image,
        replica: entry.spec.replica,
        instances: await Promise.all([...entry.slots.values()].map((slot) => inspectSlot(slot))),
      })),
    );
  }

  /** Subscribes to every status change; returns the unsubscribe function. */
  onStatus(listener: (event: StatusEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when every instance of the service stayed running for stableMs; rejects when one ends. */
  waitHealthy(service: string, options: HealthOptions): Promise<void> {
    return waitHealthy(
      { clock: this.deps.clock, instances: (s) => this.instances(s), onStatus: (l) => this.onStatus(l) },
      service,
      options,
    );
  }

  /** The running instances, as the state file keeps them. */
  records(): InstanceRecord[] {
    const out: InstanceRecord[] = [];
    for (const entry of this.services.values()) {
      for (const slot of entry.slots.values()) {
        if (slot.running !== undefined) out.push(slot.running.record());
      }
    }
    return out;
  }

  private entry(service: string): ServiceEntry {
    const entry = this.services.get(service);
    if (entry === undefined) {
      throw new OpenEdgeError("ERR_NOT_FOUND", `service "${service}" is not running`, {
        details: { service },
      });
    }
    return entry;
  }

  private addSlot(entry: ServiceEntry, name: string, extraEnv: Record<string, string>): Promise<void> {
    const env = { ...entry.envFor(name), ...extraEnv };
    const slot = new InstanceSlot(entry.spec, name, env, {
      engine: this.deps.engine,
      clock: this.deps.clock,
      log: this.log,
      random: this.deps.random ?? Math.random,
      stableMs: this.deps.stableMs ?? DEFAULT_STABLE_MS,
      emit: (event) => this.emit(event),
      changed: () => this.saveState(),
    });
    entry.slots.set(name, slot);
    return slot.start();
  }

  private emit(event: StatusEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.log.error("status_listener_failed", {
          service: event.service,
          instance: event.instance,
          error: err,
        });
      }
    }
  }

  private saveState(): void {
    if (this.deps.state === undefined) return;
    try {
      this.deps.state.save(this.records());
    } catch (err) {
      this.log.error("state_save_failed", { error: err });
    }
  }
}
