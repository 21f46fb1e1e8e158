// NVIDIA Jetson (Tegra) GPUs, which NVML does not cover: the integrated GPU's load from sysfs (in
// per-mille), the board name from the device tree, and memory that is the shared system memory.

import { join } from "node:path";
import { memStatsFromMeminfo, parseMeminfo } from "./meminfo.ts";
import { readNumber, readText, readTrimmed } from "./read-file.ts";
import type { GpuStats } from "./types.ts";

/**
 * Where L4T releases expose the GPU's `load` (relative to sysfs): gpu.0 on Nano/TX1 and older kernels,
 * the 17000000.* nodes on TX2 (gp10b), Xavier (gv11b) and Orin (ga10b, moved under bus@0 in JetPack 6).
 */
export const JETSON_LOAD_PATHS: readonly string[] = [
  "devices/gpu.0/load",
  "devices/platform/gpu.0/load",
  "devices/17000000.gp10b/load",
  "devices/17000000.gv11b/load",
  "devices/platform/17000000.gv11b/load",
  "devices/17000000.ga10b/load",
  "devices/platform/17000000.ga10b/load",
  "devices/platform/bus@0/17000000.gpu/load",
  "devices/57000000.gpu/load",
];

/** The first Jetson GPU load file present under sysRoot, or null on anything that is not a Jetson. */
export function findJetsonLoadPath(sysRoot: string): string | null {
  for (const rel of JETSON_LOAD_PATHS) {
    const path = join(sysRoot, rel);
    if (readNumber(path) !== null) return path;
  }
  return null;
}

/** GPU load in percent from the per-mille value of the `load` file. */
export function jetsonLoadPercent(perMille: number): number {
  return Math.round(Math.min(Math.max(perMille, 0), 1000)) / 10;
}

/** The Jetson GPU as a gpu_stats entry, or null when this is not a Jetson. */
export function probeJetson(sysRoot: string, procRoot: string, loadPath?: string | null): GpuStats | null {
  const path = loadPath ?? findJetsonLoadPath(sysRoot);
  if (path === null) return null;
  const perMille = readNumber(path);
  // /proc/device-tree/model is a NUL-terminated string ("NVIDIA Jetson Nano Developer Kit\0")
  const model = readTrimmed(join(procRoot, "device-tree/model")) ?? "NVIDIA Jetson";
  const meminfo = readText(join(procRoot, "meminfo"));
  const mem = memStatsFromMeminfo(parseMeminfo(meminfo ?? ""));
  const gpu: GpuStats = {
    index: 0,
    model,
    uuid: "",
    source: "jetson",
    // the GPU allocates from system memory, so its memory is the system's
    mem_total: mem.total,
    mem_free: mem.available,
    mem_used: mem.used,
    mem_used_percent: mem.used_percent,
    gpu_used_percent: perMille === null ? null : jetsonLoadPercent(perMille),
    mem_util_percent: null,
  };
  if (perMille === null) gpu.error = `cannot read ${path}`;
  return gpu;
}
