// Memory and swap from /proc/meminfo (values there are kB; we report bytes).

import { join } from "node:path";
import { type ProbeRoots, resolveRoots } from "./deps.ts";
import { percent, readText } from "./read-file.ts";
import type { MemStats } from "./types.ts";

/** Every `Key: value kB` line of /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([^:\s]+):\s+(\d+)(?:\s+(kB))?/.exec(line);
    if (!m) continue;
    const value = Number(m[2]);
    out.set(m[1]!, m[3] === "kB" ? value * 1024 : value);
  }
  return out;
}

export function memStatsFromMeminfo(info: Map<string, number>): MemStats {
  const total = info.get("MemTotal") ?? 0;
  const free = info.get("MemFree") ?? 0;
  const buffers = info.get("Buffers") ?? 0;
  // SReclaimable is slab the kernel gives back under pressure; `free` counts it as cache too
  const cached = (info.get("Cached") ?? 0) + (info.get("SReclaimable") ?? 0);
  // MemAvailable exists since Linux 3.14; older kernels get the classic estimate
  const available = Math.min(total, info.get("MemAvailable") ?? free + buffers + cached);
  const used = Math.max(0, total - available);
  const swapTotal = info.get("SwapTotal") ?? 0;
  const swapFree = info.get("SwapFree") ?? 0;
  const swapUsed = Math.max(0, swapTotal - swapFree);
  return {
    total,
    free,
    available,
    used,
    used_percent: percent(used, total),
    buffers,
    cached,
    swap_total: swapTotal,
    swap_free: swapFree,
    swap_used: swapUsed,
    swap_used_percent: percent(swapUsed, swapTotal),
  };
}

const EMPTY_MEMINFO = new Map<string, number>();

/** Memory and swap now; an unreadable /proc/meminfo gives zeros and an `error`. */
export function readMemStats(roots: ProbeRoots = {}): MemStats {
  const path = join(resolveRoots(roots).procRoot, "meminfo");
  const text = readText(path);
  if (text === null) return { ...memStatsFromMeminfo(EMPTY_MEMINFO), error: `cannot read ${path}` };
  return memStatsFromMeminfo(parseMeminfo(text));
}
