// Turns the API's inspect JSON into the tables `openedge status` and `openedge ps` print. It reads the
// JSON defensively: fields a service reported itself may have any shape.

import { formatBytes, formatDuration } from "../lib/units.ts";

export interface InstanceView {
  service: string;
  instance: string;
  status: string;
  restarts: number;
  pid: string;
  cpu: string;
  memory: string;
  uptime: string;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function instanceViews(inspect: unknown, now: number): InstanceView[] {
  const rows: InstanceView[] = [];
  for (const s of list(record(inspect).services)) {
    const service = record(s);
    if (service.status === "failed" || service.status === "running") {
      if (list(service.instances).length === 0) {
        rows.push({
          service: String(service.name ?? "?"),
          instance: "-",
          status:
            service.status === "failed"
              ? `failed: ${String(service.error ?? "")}`
              : `running (${String(service.placement ?? "inproc")})`,
          restarts: 0,
          pid: "-",
          cpu: "-",
          memory: "-",
          uptime: "-",
        });
        continue;
      }
    }
    for (const i of list(service.instances)) {
      const inst = record(i);
      const cpu = num(inst.cpu_percent);
      const rss = num(inst.mem_rss_bytes);
      const started = typeof inst.start_time === "string" ? Date.parse(inst.start_time) : Number.NaN;
      const running = inst.status === "running";
      rows.push({
        service: String(service.name ?? "?"),
        instance: String(inst.name ?? "?"),
        status: String(inst.status ?? "unknown"),
        restarts: num(inst.restarts) ?? 0,
        pid: inst.pid === undefined || inst.pid === null ? "-" : String(inst.pid),
        cpu: cpu === null ? "-" : `${cpu.toFixed(1)}%`,
        memory: rss === null ? "-" : formatBytes(rss),
        uptime: running && Number.isFinite(started) ? formatDuration(now - started) : "-",
      });
    }
  }
  return rows;
}

export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

export function renderInstances(views: InstanceView[]): string {
  return renderTable(
    ["SERVICE", "INSTANCE", "STATUS", "RESTARTS", "PID", "CPU", "MEMORY", "UPTIME"],
    views.map((v) => [v.service, v.instance, v.status, String(v.restarts), v.pid, v.cpu, v.memory, v.uptime]),
  );
}
