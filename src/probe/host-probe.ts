// The host probe behind inspect: `software` facts plus OpenEdge's `hardware.*_stats` blocks. It keeps
// what sampling needs between calls (the previous CPU reading, the GPU cache, facts that never change)
// so one call is a handful of small /proc reads and a statfs.

import { join } from "node:path";
import { errorMessage } from "../lib/errors.ts";
import { CpuSampler, cpuStatsFrom, parseProcStat, readCpuModel } from "./cpu.ts";
import { type ProbeDeps, type ResolvedProbeDeps, resolveProbeDeps } from "./deps.ts";
import { readDiskStats } from "./disk.ts";
import { GpuProbe } from "./gpu.ts";
import { type HostId, resolveHostId } from "./host-id.ts";
import {
  countProcesses,
  type OsRelease,
  type PlatformFacts,
  platformFacts,
  readHostname,
  readKernelRelease,
  readOsRelease,
  readUptime,
} from "./host-info.ts";
import { readMemStats } from "./meminfo.ts";
import { readNetStats } from "./net.ts";
import { readText } from "./read-file.ts";
import type { GpuStats, HostInspect, HostStats, NetStats, SoftwareFacts } from "./types.ts";

interface StaticFacts {
  platform: PlatformFacts;
  kernel: string;
  cpuModel: string;
  osRelease: OsRelease;
  hostId: HostId;
}

export class HostProbe {
  private readonly deps: ResolvedProbeDeps;
  private readonly cpu = new CpuSampler();
  private readonly gpu: GpuProbe;
  private facts: StaticFacts | null = null;

  constructor(deps: ProbeDeps) {
    this.deps = resolveProbeDeps(deps);
    const { sysRoot, procRoot, clock, log, nvmlPaths, gpuCacheMs } = this.deps;
    this.gpu = new GpuProbe({
      sysRoot,
      procRoot,
      clock,
      log,
      cacheMs: gpuCacheMs,
      ...(nvmlPaths === undefined ? {} : { nvmlPaths }),
    });
  }

  /** os, arch, kernel, hostname and host id: what inspect reports under `software`. */
  software(): SoftwareFacts {
    const f = this.staticFacts();
    return {
      os: f.platform.os,
      arch: f.platform.arch,
      machine: f.platform.machine,
      bits: f.platform.bits,
      kernel_version: f.kernel,
      hostname: readHostname(this.deps.procRoot),
      host_id: f.hostId.id,
      host_id_source: f.hostId.source,
    };
  }

  /** A full reading. CPU usage is since the previous call (since boot on the first). */
  inspect(): HostInspect {
    const { procRoot, workDir } = this.deps;
    const f = this.staticFacts();
    const statText = readText(join(procRoot, "stat"));
    const stat = statText === null ? null : parseProcStat(statText);
    return {
      software: this.software(),
      hardware: {
        host_stats: this.hostStats(f, stat?.btime ?? 0),
        net_stats: this.netStats(),
        mem_stats: readMemStats({ procRoot }),
        cpu_stats: cpuStatsFrom(stat, this.cpu, f.cpuModel, procRoot),
        disk_stats: readDiskStats(workDir),
        gpu_stats: this.gpu.list(),
      },
    };
  }

  /** GPUs only (cached for gpuCacheMs), for callers that want no more. */
  gpus(): GpuStats[] {
    return this.gpu.list();
  }

  /** Unloads NVML if it was loaded. */
  close(): void {
    this.gpu.close();
  }

  private hostStats(f: StaticFacts, btime: number): HostStats {
    const { procRoot } = this.deps;
    const uptime = readUptime(procRoot);
    const stats: HostStats = {
      hostname: readHostname(procRoot),
      uptime: uptime ?? 0,
      boot_time: btime,
      process_num: countProcesses(procRoot),
      os: f.platform.os,
      platform: f.osRelease.id,
      platform_family: f.osRelease.idLike.split(/\s+/)[0] || f.osRelease.id,
      platform_version: f.osRelease.versionId,
      kernel_version: f.kernel,
      kernel_arch: f.platform.machine,
      host_id: f.hostId.id,
    };
    if (uptime === null) stats.error = `cannot read ${join(procRoot, "uptime")}`;
    return stats;
  }

  private netStats(): NetStats {
    const { procRoot, sysRoot } = this.deps;
    try {
      return readNetStats(procRoot, sysRoot, this.deps.networkInterfaces());
    } catch (err) {
      // getifaddrs can fail (EMFILE); counters alone are still worth reporting
      const stats = readNetStats(procRoot, sysRoot, {});
      return { ...stats, error: errorMessage(err) };
    }
  }

  private staticFacts(): StaticFacts {
    if (this.facts === null) {
      const { procRoot, rootDir, workDir, log } = this.deps;
      this.facts = {
        platform: platformFacts(),
        kernel: readKernelRelease(procRoot),
        cpuModel: readCpuModel(procRoot),
        osRelease: readOsRelease(rootDir),
        hostId: resolveHostId({ rootDir, workDir, log }),
      };
    }
    return this.facts;
  }
}

/**
 * One reading with a fresh probe (CPU usage is then the average since boot). Long-lived callers such
 * as the API keep a HostProbe instead, for usage between calls and the GPU cache.
 */
export function probeHost(deps: ProbeDeps): HostInspect {
  const probe = new HostProbe(deps);
  try {
    return probe.inspect();
  } finally {
    probe.close();
  }
}
