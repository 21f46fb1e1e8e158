import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";
import { serviceLogs, tailLines } from "../../../src/master/instance-logs.ts";
import { renderMetrics } from "../../../src/master/metrics.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "oe-ml-"));
  dirs.push(d);
  return d;
}

test("metrics: host figures, per-instance series with escaped labels, one HELP/TYPE per name", () => {
  const text = renderMetrics(
    {
      hardware: { cpu_stats: { used_percent: 12.5 }, mem_stats: { total: 1000, used: 400 } },
      services: [
        {
          name: "hub",
          instances: [
            { name: 'hub"1', status: "running", restarts: 2, cpu_percent: 3, mem_rss_bytes: 2048 },
            { name: "hub.i1", status: "failed", restarts: 5 },
          ],
        },
      ],
    },
    { hub: { queue_depth: 3, sent_total: 10 } },
  );
  expect(text).toContain("openedge_up 1\n");
  expect(text).toContain("openedge_host_cpu_used_percent 12.5\n");
  expect(text).toContain('openedge_instance_restarts_total{service="hub",instance="hub\\"1"} 2\n');
  expect(text).toContain('openedge_instance_status{service="hub",instance="hub.i1",status="failed"} 1\n');
  expect(text).toContain('openedge_instance_status{service="hub",instance="hub.i1",status="running"} 0\n');
  expect(text).toContain("# TYPE openedge_bus_sent_total counter\n");
  expect(text).toContain('openedge_bus_queue_depth{module="hub"} 3\n');
  expect(text.match(/# TYPE openedge_instance_restarts_total/g)).toHaveLength(1);
  expect(text).not.toContain('openedge_instance_cpu_percent{service="hub",instance="hub.i1"}');
});

test("tailLines returns the last n lines, reading across chunk boundaries", () => {
  const file = join(tempDir(), "x.log");
  const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${"x".repeat(50)}`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  expect(tailLines(file, 3)).toBe(`${lines.slice(-3).join("\n")}\n`);
  expect(tailLines(file, 2000).split("\n")).toHaveLength(2001);
  expect(tailLines(file, 0)).toBe("");
  writeFileSync(file, "only\nno newline at end");
  expect(tailLines(file, 1)).toBe("no newline at end\n");
});

test("service logs: every instance labelled, an unknown service is ERR_NOT_FOUND", () => {
  const logDir = tempDir();
  mkdirSync(join(logDir, "svc"));
  writeFileSync(join(logDir, "svc/svc.log"), "a1\na2\n");
  writeFileSync(join(logDir, "svc/svc.i1.log"), "b1\n");
  expect(serviceLogs(logDir, "svc", { tail: 1, follow: false })).toBe("svc | a2\nsvc.i1 | b1\n");
  expect(serviceLogs(logDir, "svc", { tail: 5, follow: false, instance: "svc.i1" })).toBe("b1\n");
  let err: unknown;
  try {
    serviceLogs(logDir, "nope", { tail: 1, follow: false });
  } catch (e) {
    err = e;
  }
  expect(isOpenEdgeError(err, "ERR_NOT_FOUND")).toBe(true);
});
