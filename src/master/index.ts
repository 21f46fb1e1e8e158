// Public surface of the master.
export { Master, type MasterDeps } from "./master.ts";
export { type WorkPaths, workPaths } from "./paths.ts";
export { acquirePidLock, type PidLock, processAlive, readPidFile } from "./pid-lock.ts";
