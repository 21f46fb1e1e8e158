// Resource limits on real cgroups (v1 or v2, whichever this host offers): OOM kill and restart,
// the pids limit against a bounded fork loop, cpu quota and cpuset. Where cgroups cannot be written
// the same tests assert that the instance still runs and says its limits are not enforced.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { detectCgroups, NoCgroups, type StatusEvent, Supervisor } from "../../src/engine/index.ts";
import { systemClock } from "../../src/lib/clock.ts";
import { MemorySink, SinkLogger, silentLogger } from "../../src/log/index.ts";
import { type NativeHarness, nativeHarness, waitFor, waitForFile } from "../fixtures/engine/harness.ts";

const ENV = { OPENEDGE_SERVICE_NAME: "svc", OPENEDGE_SERVICE_INSTANCE_NAME: "svc" };
const MiB = 1024 * 1024;

let h: NativeHarness;
let enforced = false;
beforeAll(() => {
  h = nativeHarness();
  enforced = h.engine.cgroups.version !== "none";
});
afterAll(() => h.close());

describe(`native limits (cgroups detected: ${detectCgroups({ log: silentLogger, sleep: Bun.sleep, parent: "openedge-test" }).version})`, () => {
  test("an instance over its memory limit is OOM-killed and the supervisor restarts it", async () => {
    const restart = {
      policy: "on-failure" as const,
      retryMax: 1,
      backoff: { minMs: 50, maxMs: 100, factor: 2 },
    };
    const resources = { memory: { limitBytes: 64 * MiB } };
    if (!enforced) {
      const inst = await h.engine.startInstance(h.spec("oom", "sleep 30", { resources }), "oom", ENV);
      expect(inst.limits).toMatchObject({ enforced: false, via: "none" });
      expect(inst.limits.reason).toBeString();
      expect(inst.limits.skipped.map((s) => s.limit)).toEqual(["memory.limit"]);
      await inst.stop(100);
      return;
    }
    const alloc = "b = []\nwhile True: b.append(b'x' * (8 << 20))";
    const spec = h.spec("oom", `exec python3 -c "${alloc}"`, { resources, restart });
    const sup = new Supervisor({ engine: h.engine, clock: systemClock, log: silentLogger });
    const events: StatusEvent[] = [];
    sup.onStatus((e) => events.push(e));
    await sup.startService(spec, () => ENV);
    await waitFor("gave up", () => sup.instances("oom")?.[0]?.status === "failed", 30_000);
    const ends = events.filter((e) => e.status === "restarting" || e.status === "failed");
    expect(ends.map((e) => e.status)).toEqual(["restarting", "failed"]);
    for (const e of ends) expect(e.exit).toMatchObject({ signal: "SIGKILL", oomKilled: true });
    const [svc] = await sup.inspect();
    expect(svc?.instances[0]).toMatchObject({ status: "failed", restarts: 1, exit: { oom_killed: true } });
    await sup.stopService("oom");
  });

  test("a bounded fork loop hits the pids limit", async () => {
    const resources = { pids: { limit: 20 } };
    const script = "i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done; echo $i > out/forked; wait";
    if (!enforced) {
      const inst = await h.engine.startInstance(h.spec("fork", "sleep 30", { resources }), "fork", ENV);
      expect(inst.limits).toMatchObject({ enforced: false, skipped: [{ limit: "pids.limit" }] });
      await inst.stop(100);
      return;
    }
    const inst = await h.engine.startInstance(h.spec("fork", script, { resources }), "fork", ENV);
    expect(inst.limits).toMatchObject({ enforced: true, applied: { pids: 20 } });
    const exit = await inst.wait();
    // dash gives up with "Cannot fork" (exit 2); the loop never completes.
    expect(exit.code).not.toBe(0);
    const log = readFileSync(join(h.workDir, "var/log/openedge/fork/fork.log"), "utf8");
    expect(log).toMatch(/fork/i);
    expect(() => readFileSync(join(h.outDir, "forked"))).toThrow();
  });

  test("a cpu quota holds a busy loop near its share", async () => {
    const resources = { cpu: { cpus: 0.2 } };
    const inst = await h.engine.startInstance(
      h.spec("cpu", "echo up > out/cpu-ready; while :; do :; done", { resources }),
      "cpu",
      ENV,
    );
    try {
      await waitForFile(join(h.outDir, "cpu-ready"));
      if (!enforced) {
        expect(inst.limits).toMatchObject({ enforced: false, skipped: [{ limit: "cpu.cpus" }] });
        return;
      }
      expect(inst.limits.applied.cpus).toBe(0.2);
      await inst.stats();
      const t0 = performance.now();
      await waitFor("a 1 s sample window", () => performance.now() - t0 >= 1000, 5000);
      const { cpuPercent } = await inst.stats();
      expect(cpuPercent).toBeGreaterThan(5);
      expect(cpuPercent).toBeLessThan(35);
    } finally {
      await inst.stop(500);
    }
  });

  test("setcpus pins the instance to the given cpus", async () => {
    const resources = { cpu: { setcpus: "0" } };
    const inst = await h.engine.startInstance(
      h.spec("pin", "echo up > out/pin-ready; exec sleep 30", { resources }),
      "pin",
      ENV,
    );
    try {
      await waitForFile(join(h.outDir, "pin-ready"));
      if (!enforced) {
        expect(inst.limits).toMatchObject({ enforced: false, skipped: [{ limit: "cpu.setcpus" }] });
        return;
      }
      expect(inst.limits).toMatchObject({ enforced: true, applied: { setcpus: "0" } });
      const status = readFileSync(`/proc/${inst.pid}/status`, "utf8");
      expect(/Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1]).toBe("0");
    } finally {
      await inst.stop(500);
    }
  });
});

describe("native limits without cgroups", () => {
  test("unwritable cgroups: the instance starts anyway and reports enforced: false with the reason", async () => {
    const cgroups = detectCgroups({
      log: silentLogger,
      sleep: Bun.sleep,
      procCgroup: "4:memory:/\n8:pids:/\n",
      mountinfo: [
        "35 31 0:32 / /proc/no-cgroup/memory rw,relatime - cgroup cgroup rw,memory",
        "39 31 0:36 / /proc/no-cgroup/pids rw,relatime - cgroup cgroup rw,pids",
      ].join("\n"),
    });
    expect(cgroups.version).toBe("none");
    expect(cgroups.reason).toContain("/proc/no-cgroup/memory");
    const sink = new MemorySink();
    const b = nativeHarness({ cgroups, log: new SinkLogger([sink], "debug") });
    try {
      const resources = { memory: { limitBytes: 64 * MiB }, pids: { limit: 10 } };
      const inst = await b.engine.startInstance(
        b.spec("svc", "echo up > out/ready; sleep 30", { resources }),
        "svc",
        ENV,
      );
      await waitForFile(join(b.outDir, "ready"));
      expect(inst.limits.enforced).toBe(false);
      expect(inst.limits.reason).toContain("/proc/no-cgroup/memory");
      expect(inst.limits.skipped.map((s) => s.limit)).toEqual(["memory.limit", "pids.limit"]);
      expect(sink.find("limits_not_enforced")?.fields).toMatchObject({ service: "svc", instance: "svc" });
      expect((await inst.stats()).processes).toBeGreaterThanOrEqual(1);
      await inst.stop(500);
    } finally {
      await b.close();
    }
  });

  test("without cgroups and without requested limits the report is vacuously enforced", async () => {
    const b = nativeHarness({ cgroups: new NoCgroups("disabled by test") });
    try {
      const inst = await b.engine.startInstance(b.spec("svc", "exit 0"), "svc", ENV);
      expect(inst.limits).toEqual({ enforced: true, via: "none", applied: {}, skipped: [] });
      await inst.wait();
    } finally {
      await b.close();
    }
  });
});
