// Where built-in images run. Function runtimes and `isolation: process` services are child processes
// of this same executable (`openedge module <name>`) under the engine; the other built-ins run inside
// the master as beehive modules, provided by factories listed explicitly when the master is assembled.

import type { ApplicationConfig, BuiltinName, ServiceConfig } from "../config/index.ts";
import type { Logger } from "../log/index.ts";

/** Built-ins that are always separate processes: each instance serves one function's invocations. */
const PROCESS_ONLY: ReadonlySet<BuiltinName> = new Set([
  "openedge-function-node",
  "openedge-function-python3",
]);

export type Placement = "engine" | "inproc";

export function placementOf(service: ServiceConfig): Placement {
  if (service.builtin === null) return "engine";
  if (PROCESS_ONLY.has(service.builtin) || service.isolation === "process") return "engine";
  return "inproc";
}

/** A built-in running inside the master; `stop` resolves once it has released everything. */
export interface InprocService {
  stop(): Promise<void>;
  inspect?(): Record<string, unknown>;
}

/** Dynamic instances of the application's engine services, started as `PUT …/instances/{i}/start` does. */
export interface DynamicInstances {
  /** `env` adds keys (such as OPENEDGE_SERVICE_INSTANCE_ADDRESS) to the instance's system env. */
  start(service: string, instance: string, env: Record<string, string>): Promise<void>;
  stop(service: string, instance: string): Promise<void>;
  /** The instance's supervision status (`running`, `restarting`, `exited`, …); absent when unknown. */
  status(service: string, instance: string): string | undefined;
}

export interface BuiltinContext {
  service: ServiceConfig;
  /** Absolute host paths of the service's mounts, by mount path (`etc/openedge` → its service.yml). */
  mounts: Record<string, string>;
  log: Logger;
  /** The application this service belongs to (to check the services its config names). */
  application: ApplicationConfig;
  /** A running in-process built-in of the application by image (started before this one), if any. */
  builtin(image: BuiltinName): InprocService | undefined;
  instances: DynamicInstances;
}

export type BuiltinFactory = (ctx: BuiltinContext) => Promise<InprocService>;

export type BuiltinCatalog = Partial<Record<BuiltinName, BuiltinFactory>>;
