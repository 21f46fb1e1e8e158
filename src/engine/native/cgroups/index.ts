// Public surface of the native engine's cgroup support.
export { type DetectOptions, detectCgroups, NoCgroups } from "./detect.ts";
export type { CgroupHandle, CgroupManager } from "./types.ts";
export { requestedLimits, unenforcedReport } from "./types.ts";
