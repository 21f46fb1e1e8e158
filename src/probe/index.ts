// Public surface of host probing: the inspect reading (HostProbe, probeHost), per-process stats for
// the engine (ProcessSampler, processStartTime), GPUs, and the parsers the tests drive with fixtures.

export type { CpuTimes, ProcStat } from "./cpu.ts";
export { CpuSampler, cpuPercentBetween, parseCpuModel, parseLoadavg, parseProcStat } from "./cpu.ts";
export type { NetworkInterfaceMap, ProbeDeps, ProbeRoots } from "./deps.ts";
export { DEFAULT_CLOCK_TICKS, DEFAULT_GPU_CACHE_MS } from "./deps.ts";
export { diskStatsFromStatfs, readDiskStats } from "./disk.ts";
export type { GpuProbeDeps } from "./gpu.ts";
export { GpuProbe, gpuStatsFromNvml } from "./gpu.ts";
export type { HostId, HostIdDeps } from "./host-id.ts";
export { HOST_ID_FILE, resolveHostId } from "./host-id.ts";
export { bitsOf, parseOsRelease, platformFacts } from "./host-info.ts";
export { HostProbe, probeHost } from "./host-probe.ts";
export { findJetsonLoadPath, JETSON_LOAD_PATHS, jetsonLoadPercent, probeJetson } from "./jetson.ts";
export { memStatsFromMeminfo, parseMeminfo, readMemStats } from "./meminfo.ts";
export type { NetDevCounters } from "./net.ts";
export { netStatsFrom, parseNetDev, readNetStats } from "./net.ts";
export type { PidStat } from "./pid-stat.ts";
export { parsePidStat, parseStatusRss, processStartTime, readPidRss, readPidStat } from "./pid-stat.ts";
export type { ProcessSamplerDeps } from "./process-sampler.ts";
export { ProcessSampler } from "./process-sampler.ts";
export type * from "./types.ts";
