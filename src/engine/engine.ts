// The engine boundary: the only code that starts service processes or containers. The supervisor and
// the master talk to this interface and never know which implementation runs.

import type { ExitInfo, InstanceRecord, InstanceStats, LimitsReport, ServiceSpec } from "./types.ts";

export type EngineName = "native" | "docker";

export interface RunningInstance {
  readonly service: string;
  readonly instance: string;
  readonly pid?: number;
  readonly containerId?: string;
  /** Epoch milliseconds (from the engine's clock). */
  readonly startedAt: number;
  readonly limits: LimitsReport;
  /** Resolves once, when the instance has ended and everything it held has been cleaned up. */
  wait(): Promise<ExitInfo>;
  /** Asks the instance to end (SIGTERM), forces it after graceMs (SIGKILL); resolves like wait(). */
  stop(graceMs: number): Promise<ExitInfo>;
  stats(): Promise<InstanceStats>;
  /** What a restarted master needs to find this instance again. */
  record(): InstanceRecord;
}

export interface LeftoverReport {
  /** Records whose processes or containers were still there and have been ended. */
  reaped: InstanceRecord[];
  /** Records that were already gone (or whose pid now belongs to another process). */
  gone: InstanceRecord[];
}

export interface Engine {
  readonly name: EngineName;
  /** Checks what a service needs before its first start; throws OpenEdgeError naming what is missing. */
  prepare(spec: ServiceSpec): Promise<void>;
  /**
   * Starts one instance. `env` is the system environment composed by the master (OPENEDGE_* keys and
   * dynamic keys); it wins over spec.env, which wins over the host environment.
   */
  startInstance(spec: ServiceSpec, instance: string, env: Record<string, string>): Promise<RunningInstance>;
  /** Ends what a crashed predecessor left running; records of other engines are ignored. */
  reapLeftovers(records: readonly InstanceRecord[]): Promise<LeftoverReport>;
  close(): Promise<void>;
}
