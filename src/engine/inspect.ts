// Inspect output of one instance: plain snake_case JSON (OpenEdge's inspect vocabulary), stats sampled
// from the engine when the instance is running.

import type { InstanceSlot, InstanceStatus } from "./instance-slot.ts";
import type { LimitsReport } from "./types.ts";

export interface InstanceInspect {
  name: string;
  status: InstanceStatus;
  /** ISO time of the current (or last) start, null before the first. */
  start_time: string | null;
  restarts: number;
  pid?: number;
  container_id?: string;
  exit?: { code: number | null; signal: string | null; oom_killed?: boolean; error?: string; time: string };
  cpu_percent?: number;
  mem_rss_bytes?: number;
  mem_usage_bytes?: number;
  mem_limit_bytes?: number;
  processes?: number;
  limits?: LimitsReport;
}

export async function inspectSlot(slot: InstanceSlot): Promise<InstanceInspect> {
  const out: InstanceInspect = {
    name: slot.name,
    status: slot.status,
    start_time: slot.startedAt === undefined ? null : new Date(slot.startedAt).toISOString(),
    restarts: slot.restarts,
  };
  const exit = slot.lastExit;
  if (exit !== undefined) {
    out.exit = { code: exit.code, signal: exit.signal, time: new Date(exit.time).toISOString() };
    if (exit.oomKilled !== undefined) out.exit.oom_killed = exit.oomKilled;
    if (exit.error !== undefined) out.exit.error = exit.error;
  }
  const running = slot.running;
  if (running === undefined) return out;
  if (running.pid !== undefined) out.pid = running.pid;
  if (running.containerId !== undefined) out.container_id = running.containerId;
  out.limits = running.limits;
  try {
    const stats = await running.stats();
    out.cpu_percent = Math.round(stats.cpuPercent * 100) / 100;
    out.mem_rss_bytes = stats.memRssBytes;
    if (stats.memUsageBytes !== undefined) out.mem_usage_bytes = stats.memUsageBytes;
    if (stats.memLimitBytes !== undefined) out.mem_limit_bytes = stats.memLimitBytes;
    out.processes = stats.processes;
  } catch {
    // The instance ended between the check and the sample: its status event tells the rest.
  }
  return out;
}
