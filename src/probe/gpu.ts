// GPU readings for inspect: NVML first (discrete NVIDIA GPUs), Jetson's sysfs when NVML has none.
// NVML is loaded on the first reading, not before, kept initialised between readings, and a reading
// is reused for cacheMs so a burst of inspect calls costs one query. Absent hardware is an empty list.

import {
  type Nvml,
  type NvmlGpu,
  type NvmlOpenResult,
  type NvmlOptions,
  openNvml,
} from "../../native/nvml.ts";
import { NVML_ERROR_DRIVER_NOT_LOADED } from "../../native/nvml-abi.ts";
import { type Clock, systemClock } from "../lib/clock.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { DEFAULT_GPU_CACHE_MS, type ProbeRoots, resolveRoots } from "./deps.ts";
import { findJetsonLoadPath, probeJetson } from "./jetson.ts";
import { percent } from "./read-file.ts";
import type { GpuStats } from "./types.ts";

export interface GpuProbeDeps extends ProbeRoots {
  clock?: Clock;
  log?: Logger;
  /** Where to look for libnvidia-ml; defaultNvmlCandidates() by default. */
  nvmlPaths?: readonly string[];
  cacheMs?: number;
  /** After NVML could not be opened, how long before trying again (the driver may load after us). */
  retryMs?: number;
  /** Replaces the loader (tests). */
  openNvml?: (options: NvmlOptions) => NvmlOpenResult;
}

const DEFAULT_RETRY_MS = 30_000;

export function gpuStatsFromNvml(gpu: NvmlGpu): GpuStats {
  const stats: GpuStats = {
    index: gpu.index,
    model: gpu.name,
    uuid: gpu.uuid,
    source: "nvml",
    mem_total: gpu.memory?.total ?? 0,
    mem_free: gpu.memory?.free ?? 0,
    mem_used: gpu.memory?.used ?? 0,
    mem_used_percent: gpu.memory === null ? 0 : percent(gpu.memory.used, gpu.memory.total),
    gpu_used_percent: gpu.utilization?.gpu ?? null,
    mem_util_percent: gpu.utilization?.memory ?? null,
  };
  if (gpu.error !== undefined) stats.error = `nvml: ${gpu.error}`;
  return stats;
}

export class GpuProbe {
  private readonly sysRoot: string;
  private readonly procRoot: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly cacheMs: number;
  private readonly retryMs: number;
  private readonly open: (options: NvmlOptions) => NvmlOpenResult;
  private readonly nvmlOptions: NvmlOptions;
  private session: Nvml | null = null;
  private nextOpenAt = Number.NEGATIVE_INFINITY;
  private lastProblem: string | null = null;
  /** undefined until looked for: a board does not become a Jetson while we run. */
  private jetsonLoad: string | null | undefined;
  private cached: { at: number; gpus: GpuStats[] } | null = null;

  constructor(deps: GpuProbeDeps = {}) {
    const roots = resolveRoots(deps);
    this.sysRoot = roots.sysRoot;
    this.procRoot = roots.procRoot;
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log ?? silentLogger;
    this.cacheMs = deps.cacheMs ?? DEFAULT_GPU_CACHE_MS;
    this.retryMs = deps.retryMs ?? DEFAULT_RETRY_MS;
    this.open = deps.openNvml ?? openNvml;
    this.nvmlOptions = deps.nvmlPaths === undefined ? {} : { paths: deps.nvmlPaths };
  }

  /** The GPUs now (or as read less than cacheMs ago); [] when there are none. */
  list(): GpuStats[] {
    const now = this.clock.monotonic();
    if (this.cached !== null && now - this.cached.at < this.cacheMs) return this.cached.gpus;
    let gpus = this.nvmlGpus(now);
    if (gpus.length === 0) {
      if (this.jetsonLoad === undefined) this.jetsonLoad = findJetsonLoadPath(this.sysRoot);
      const jetson =
        this.jetsonLoad === null ? null : probeJetson(this.sysRoot, this.procRoot, this.jetsonLoad);
      if (jetson !== null) gpus = [jetson];
    }
    this.cached = { at: now, gpus };
    return gpus;
  }

  /** Whether NVML is loaded and initialised now. */
  nvmlLoaded(): boolean {
    return this.session !== null;
  }

  /** Shuts NVML down and unloads it; the next list() loads it again. */
  close(): void {
    this.session?.close();
    this.session = null;
    this.cached = null;
  }

  private nvmlGpus(now: number): GpuStats[] {
    if (this.session === null) {
      if (now < this.nextOpenAt) return [];
      const opened = this.open(this.nvmlOptions);
      if (!opened.ok) {
        this.nextOpenAt = now + this.retryMs;
        // no library or no driver is how a GPU-less box looks: say it at debug, and only once
        const expected =
          opened.reason === "library_not_found" || opened.code === NVML_ERROR_DRIVER_NOT_LOADED;
        this.report(expected ? "debug" : "warn", "nvml_unavailable", {
          reason: opened.reason,
          detail: opened.detail,
        });
        return [];
      }
      this.session = opened.nvml;
      this.lastProblem = null;
      this.log.info("nvml_loaded", { path: opened.nvml.path });
    }
    const devices = this.session.devices();
    if (devices.error !== undefined) {
      // the driver may have gone (module unloaded, GPU fell off the bus): start over after retryMs
      this.report("warn", "nvml_query_failed", { error: devices.error });
      this.close();
      this.nextOpenAt = now + this.retryMs;
      return [];
    }
    for (const gpu of devices.gpus) {
      if (gpu.error !== undefined)
        this.report("warn", "gpu_query_failed", { index: gpu.index, error: gpu.error });
    }
    return devices.gpus.map(gpuStatsFromNvml);
  }

  private report(level: "debug" | "warn", msg: string, fields: Record<string, unknown>): void {
    const key = `${msg} ${JSON.stringify(fields)}`;
    if (key === this.lastProblem) return;
    this.lastProblem = key;
    this.log[level](msg, fields);
  }
}
