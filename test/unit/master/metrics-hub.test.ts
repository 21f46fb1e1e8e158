import { expect, test } from "bun:test";
import { renderMetrics } from "../../../src/master/metrics.ts";

const hubStats = (n: number) => ({
  clients: 2,
  sessions: 3,
  subscriptions: 4,
  retained: 1,
  messagesReceived: n,
  messagesSent: n * 2,
  bytesReceived: 100,
  bytesSent: 200,
  dropped: 5,
  publishDenied: 0,
  connectionsRefused: 1,
  sessionsExpired: 2,
  uptimeSeconds: 9,
});

test("metrics: an in-process hub's inspect figures and a process hub's reported ones", () => {
  const text = renderMetrics({
    services: [
      { name: "localhub", status: "running", listeners: [], ...hubStats(7), instances: [] },
      {
        name: "prochub",
        instances: [{ name: "prochub", status: "running", restarts: 0, ...hubStats(11) }],
      },
      // reported figures that are not a hub's make no hub series
      { name: "other", instances: [{ name: "other", status: "running", clients: 9 }] },
    ],
  });
  expect(text).toContain('openedge_hub_clients{service="localhub"} 2\n');
  expect(text).toContain('openedge_hub_messages_received_total{service="localhub"} 7\n');
  expect(text).toContain('openedge_hub_messages_sent_total{service="localhub"} 14\n');
  expect(text).toContain('openedge_hub_bytes_received_total{service="localhub"} 100\n');
  expect(text).toContain('openedge_hub_bytes_sent_total{service="localhub"} 200\n');
  expect(text).toContain('openedge_hub_messages_dropped_total{service="localhub"} 5\n');
  expect(text).toContain('openedge_hub_sessions_expired_total{service="localhub"} 2\n');
  expect(text).toContain('openedge_hub_messages_received_total{service="prochub",instance="prochub"} 11\n');
  expect(text).toContain("# TYPE openedge_hub_messages_received_total counter\n");
  expect(text).toContain("# TYPE openedge_hub_clients gauge\n");
  expect(text).not.toContain('service="other"}');
  expect(text).not.toMatch(/openedge_hub_clients\{service="other"/);
  // each family's samples are contiguous, under one HELP/TYPE
  const lines = text.split("\n");
  const family = lines.filter((l) => l.startsWith("openedge_hub_clients")).map((l) => lines.indexOf(l));
  expect(family).toEqual([family[0] as number, (family[0] as number) + 1]);
  expect(text.match(/# TYPE openedge_hub_clients /g)).toHaveLength(1);
});
