// GET /metrics: Prometheus text exposition built from the same data as inspect — per-instance cpu,
// memory, restarts and status, host cpu/memory/disk, the bus queues, and the hub's figures (from an
// in-process hub's inspect(), or reported by a hub instance with `isolation: process`).

import type { BusStats } from "../beehive/index.ts";

type Labels = Record<string, string>;

class Exposition {
  private readonly lines: string[] = [];
  private readonly declared = new Set<string>();

  metric(
    name: string,
    type: "gauge" | "counter",
    help: string,
    labels: Labels,
    value: number | undefined,
  ): void {
    if (value === undefined || !Number.isFinite(value)) return;
    if (!this.declared.has(name)) {
      this.declared.add(name);
      this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    }
    const body = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
      .join(",");
    this.lines.push(`${name}${body === "" ? "" : `{${body}}`} ${value}`);
  }

  text(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

function rec(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function numberOf(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

/** The hub's statistics (HubStatsSnapshot keys) and their metric families. */
const HUB_FIGURES: readonly [key: string, name: string, type: "gauge" | "counter", help: string][] = [
  ["clients", "openedge_hub_clients", "gauge", "Connected MQTT clients"],
  ["sessions", "openedge_hub_sessions", "gauge", "Sessions, connected or persistent"],
  ["subscriptions", "openedge_hub_subscriptions", "gauge", "Subscriptions"],
  ["retained", "openedge_hub_retained_messages", "gauge", "Retained messages"],
  ["messagesReceived", "openedge_hub_messages_received_total", "counter", "Messages received"],
  ["messagesSent", "openedge_hub_messages_sent_total", "counter", "Messages sent"],
  ["bytesReceived", "openedge_hub_bytes_received_total", "counter", "Bytes received"],
  ["bytesSent", "openedge_hub_bytes_sent_total", "counter", "Bytes sent"],
  [
    "dropped",
    "openedge_hub_messages_dropped_total",
    "counter",
    "Messages dropped: a client's queue was full",
  ],
  ["publishDenied", "openedge_hub_publish_denied_total", "counter", "Publishes refused by permissions"],
  ["sessionsExpired", "openedge_hub_sessions_expired_total", "counter", "Offline sessions that expired"],
  [
    "busyPollTurns",
    "openedge_hub_busy_poll_turns_total",
    "counter",
    "Event-loop turns spent polling for traffic after a burst (busypoll)",
  ],
  [
    "connectionsRefused",
    "openedge_hub_connections_refused_total",
    "counter",
    "Connections refused (CONNACK other than 0)",
  ],
];

/** Hub statistics are recognised by their `messagesReceived` figure. */
function isHubStats(stats: Record<string, unknown>): boolean {
  return typeof stats.messagesReceived === "number";
}

const STATUSES = ["starting", "running", "restarting", "stopping", "stopped", "exited", "failed"];

/** Renders the inspect document (and bus statistics, when given) as Prometheus text. */
export function renderMetrics(
  inspect: Record<string, unknown>,
  bus?: Record<string, Record<string, number>>,
): string {
  const out = new Exposition();
  out.metric("openedge_up", "gauge", "1 while the master runs", {}, 1);
  const hw = rec(inspect.hardware);
  const cpu = rec(hw.cpu_stats);
  const mem = rec(hw.mem_stats);
  const disk = rec(hw.disk_stats);
  out.metric(
    "openedge_host_cpu_used_percent",
    "gauge",
    "Host CPU use over the last interval",
    {},
    numberOf(cpu.used_percent),
  );
  out.metric("openedge_host_memory_total_bytes", "gauge", "Host memory", {}, numberOf(mem.total));
  out.metric("openedge_host_memory_used_bytes", "gauge", "Host memory in use", {}, numberOf(mem.used));
  out.metric("openedge_host_swap_used_bytes", "gauge", "Host swap in use", {}, numberOf(mem.swap_used));
  out.metric(
    "openedge_host_disk_total_bytes",
    "gauge",
    "Size of the work dir's file system",
    {},
    numberOf(disk.total),
  );
  out.metric(
    "openedge_host_disk_used_bytes",
    "gauge",
    "Used space of the work dir's file system",
    {},
    numberOf(disk.used),
  );
  const hubs: { labels: Labels; stats: Record<string, unknown> }[] = [];
  for (const s of Array.isArray(inspect.services) ? inspect.services : []) {
    const service = rec(s);
    if (isHubStats(service)) hubs.push({ labels: { service: String(service.name) }, stats: service });
    for (const i of Array.isArray(service.instances) ? service.instances : []) {
      const inst = rec(i);
      const labels = { service: String(service.name), instance: String(inst.name) };
      if (isHubStats(inst)) hubs.push({ labels, stats: inst });
      out.metric(
        "openedge_instance_cpu_percent",
        "gauge",
        "Instance CPU use (100 = one core)",
        labels,
        numberOf(inst.cpu_percent),
      );
      out.metric(
        "openedge_instance_memory_rss_bytes",
        "gauge",
        "Instance resident memory",
        labels,
        numberOf(inst.mem_rss_bytes),
      );
      out.metric(
        "openedge_instance_restarts_total",
        "counter",
        "Restarts of the instance",
        labels,
        numberOf(inst.restarts),
      );
      for (const status of STATUSES) {
        out.metric(
          "openedge_instance_status",
          "gauge",
          "1 for the instance's current status",
          { ...labels, status },
          inst.status === status ? 1 : 0,
        );
      }
    }
  }
  for (const [key, name, type, help] of HUB_FIGURES) {
    for (const hub of hubs) out.metric(name, type, help, hub.labels, numberOf(hub.stats[key]));
  }
  for (const [module, stats] of Object.entries(bus ?? {})) {
    for (const [key, value] of Object.entries(stats)) {
      out.metric(
        `openedge_bus_${key}`,
        key.endsWith("total") ? "counter" : "gauge",
        `Beehive bus ${key.replace(/_/g, " ")}`,
        { module },
        value,
      );
    }
  }
  return out.text();
}

/** Bus statistics as metric families per module (`queue_depth`, `sent_total`, …). */
export function busMetrics(stats: BusStats): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of stats.modules) {
    out[m.name] = {
      queue_depth: m.depth,
      queue_capacity: m.capacity,
      inflight: m.inflight,
      connected: m.connected ? 1 : 0,
      sent_total: m.sent,
      received_total: m.received,
      dropped_total: m.dropped,
    };
  }
  return out;
}
