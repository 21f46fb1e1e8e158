// Public surface of the native engine.
export { type CgroupHandle, type CgroupManager, detectCgroups, NoCgroups } from "./cgroups/index.ts";
export { type ExecShell, findExecShell } from "./launcher.ts";
export { DEFAULT_LOG_LIMITS, NativeEngine, type NativeEngineDeps } from "./native-engine.ts";
export type { NativeInstance } from "./native-instance.ts";
export { OrphanReaper } from "./orphan-reaper.ts";
export { packageRelDir } from "./package.ts";
