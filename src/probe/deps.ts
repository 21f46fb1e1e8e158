// What host probing depends on: the roots of /proc, /sys and / (tests point them at fixture trees),
// the work dir (disk usage, the generated host id), a clock for sampling intervals, and a logger.

import type { NetworkInterfaceInfo } from "node:os";
import { networkInterfaces } from "node:os";
import { type Clock, systemClock } from "../lib/clock.ts";
import { type Logger, silentLogger } from "../log/index.ts";

export type NetworkInterfaceMap = NodeJS.Dict<NetworkInterfaceInfo[]>;

export interface ProbeRoots {
  /** Where procfs is mounted; `/proc` unless a test says otherwise. */
  procRoot?: string;
  /** Where sysfs is mounted; `/sys` unless a test says otherwise. */
  sysRoot?: string;
  /** The root for /etc and /var/lib files (machine-id, os-release); `/` unless a test says otherwise. */
  rootDir?: string;
}

export interface ProbeDeps extends ProbeRoots {
  /** The openedge work dir: its filesystem is the disk reported, and a generated host id lives under it. */
  workDir: string;
  clock?: Clock;
  log?: Logger;
  /** USER_HZ, the unit of /proc/<pid>/stat times; 100 on every Linux architecture Bun targets. */
  clockTicks?: number;
  /** Where to look for libnvidia-ml (tests pass a bogus path or a fake library). */
  nvmlPaths?: readonly string[];
  /** How long one GPU reading is reused (ms). */
  gpuCacheMs?: number;
  /** Interface addresses; `os.networkInterfaces` unless a test says otherwise. */
  networkInterfaces?: () => NetworkInterfaceMap;
}

export interface ResolvedRoots {
  procRoot: string;
  sysRoot: string;
  rootDir: string;
}

export interface ResolvedProbeDeps extends ResolvedRoots {
  workDir: string;
  clock: Clock;
  log: Logger;
  clockTicks: number;
  nvmlPaths: readonly string[] | undefined;
  gpuCacheMs: number;
  networkInterfaces: () => NetworkInterfaceMap;
}

/** USER_HZ: the kernel reports it as 100 to user space on x86, arm and arm64 alike. */
export const DEFAULT_CLOCK_TICKS = 100;
export const DEFAULT_GPU_CACHE_MS = 1000;

export function resolveRoots(roots: ProbeRoots = {}): ResolvedRoots {
  return {
    procRoot: roots.procRoot ?? "/proc",
    sysRoot: roots.sysRoot ?? "/sys",
    rootDir: roots.rootDir ?? "/",
  };
}

export function resolveProbeDeps(deps: ProbeDeps): ResolvedProbeDeps {
  return {
    ...resolveRoots(deps),
    workDir: deps.workDir,
    clock: deps.clock ?? systemClock,
    log: deps.log ?? silentLogger,
    clockTicks: deps.clockTicks ?? DEFAULT_CLOCK_TICKS,
    nvmlPaths: deps.nvmlPaths,
    gpuCacheMs: deps.gpuCacheMs ?? DEFAULT_GPU_CACHE_MS,
    networkInterfaces: deps.networkInterfaces ?? networkInterfaces,
  };
}
