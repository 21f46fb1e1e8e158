// Public surface of the engine component: the Engine boundary, the shared supervisor, the state file
// and the native engine. Others import only from here.

export type { Engine, EngineName, LeftoverReport, RunningInstance } from "./engine.ts";
export { type HealthOptions, waitHealthy } from "./health.ts";
export type { InstanceInspect } from "./inspect.ts";
export type { InstanceStatus, StatusEvent } from "./instance-slot.ts";
export * from "./native/index.ts";
export { backoffDelay, isFailure, replicaNames, shouldRestart } from "./restart-policy.ts";
export { STATE_FILE, StateFile, stateFilePath } from "./state-file.ts";
export {
  DEFAULT_STABLE_MS,
  type EnvFor,
  type ServiceInspect,
  type StateRecorder,
  Supervisor,
  type SupervisorDeps,
} from "./supervisor.ts";
export * from "./types.ts";
