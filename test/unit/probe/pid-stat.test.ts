import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FakeClock } from "../../../src/lib/clock.ts";
import {
  ProcessSampler,
  parsePidStat,
  parseStatusRss,
  processStartTime,
  readPidRss,
  readPidStat,
} from "../../../src/probe/index.ts";
import { PROC } from "./fixture-paths.ts";

describe("/proc/<pid>/stat", () => {
  test("a comm holding spaces and parentheses ends at the last `)`", () => {
    const stat = parsePidStat(readFileSync(join(PROC, "1234/stat"), "utf8"))!;
    expect(stat).toEqual({
      pid: 1234,
      comm: "my (weird) name",
      state: "S",
      ppid: 1,
      pgrp: 1234,
      session: 1234,
      utime: 250,
      stime: 50,
      threads: 3,
      startTime: 5000,
    });
  });

  test("a comm that looks like fields does not shift them", () => {
    const stat = parsePidStat("42 (a) R 1 2 3 (b) S 9 9 9 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 99 0 0\n")!;
    expect(stat.comm).toBe("a) R 1 2 3 (b");
    expect(stat.state).toBe("S");
    expect(stat.utime).toBe(7);
    expect(stat.startTime).toBe(99);
  });

  test("truncated or foreign text → null", () => {
    expect(parsePidStat("")).toBeNull();
    expect(parsePidStat("1234 (x) S 1 2")).toBeNull();
  });

  test("VmRSS from status, 0 when there is none (kernel thread)", () => {
    expect(parseStatusRss(readFileSync(join(PROC, "1234/status"), "utf8"))).toBe(8192 * 1024);
    expect(parseStatusRss("Name:\tkthreadd\nState:\tS\n")).toBe(0);
  });

  test("fixture tree: stat, rss and start time by pid", () => {
    expect(readPidStat(1234, { procRoot: PROC })?.comm).toBe("my (weird) name");
    expect(readPidRss(1234, { procRoot: PROC })).toBe(8192 * 1024);
    expect(processStartTime(1234, { procRoot: PROC })).toBe(5000);
    expect(processStartTime(4321, { procRoot: PROC })).toBeNull();
  });
});

describe("processStartTime on this machine", () => {
  test("stable across calls for our own pid", () => {
    const a = processStartTime(process.pid);
    expect(a).toBeGreaterThan(0);
    expect(processStartTime(process.pid)).toBe(a!);
  });

  test("null for a dead pid and for nonsense, never a throw", () => {
    const child = spawnSync("true");
    expect(child.pid).toBeGreaterThan(0);
    expect(processStartTime(child.pid)).toBeNull();
    expect(processStartTime(-1)).toBeNull();
    expect(processStartTime(0)).toBeNull();
    expect(processStartTime(1.5)).toBeNull();
    expect(processStartTime(Number.NaN)).toBeNull();
  });
});

describe("ProcessSampler", () => {
  test("first sample: average over the process life; then the delta since the last sample", async () => {
    const clock = new FakeClock();
    const sampler = new ProcessSampler({ procRoot: PROC, clock });
    const first = sampler.sample(1234)!;
    // 300 ticks = 3 s of cpu over (1000.5 s uptime − 50 s start) of life
    expect(first.cpu_percent).toBe(0.32);
    expect(first.rss).toBe(8192 * 1024);
    expect(first.mem_percent).toBe(0.2);
    expect(first.start_time).toBe(5000);
    expect(first.started_at).toBe(1700000000_000 + 50_000);
    expect(first.name).toBe("my (weird) name");
    expect(first.pgid).toBe(1234);
    expect(first.threads).toBe(3);
    // same ticks a second later: idle
    await clock.advance(1000);
    expect(sampler.sample(1234)!.cpu_percent).toBe(0);
  });

  test("vanished pids are null / left out", () => {
    const sampler = new ProcessSampler({ procRoot: PROC });
    expect(sampler.sample(4321)).toBeNull();
    expect(sampler.sampleMany([4321, 1234]).map((s) => s.pid)).toEqual([1234]);
  });

  test("process groups are summed from one scan", () => {
    const sampler = new ProcessSampler({ procRoot: PROC });
    const groups = sampler.sampleGroups([1234, 777]);
    expect(groups.get(1234)?.pids).toEqual([1234]);
    expect(groups.get(1234)?.rss).toBe(8192 * 1024);
    expect(groups.has(777)).toBe(false);
    expect(sampler.sampleGroup(777)).toBeNull();
  });

  test("own process on this machine: rss > 0, cpu measured between two samples", () => {
    const sampler = new ProcessSampler();
    const first = sampler.sample(process.pid)!;
    expect(first.rss).toBeGreaterThan(0);
    expect(first.cpu_percent).toBeGreaterThanOrEqual(0);
    let x = 0;
    for (let i = 0; i < 2_000_000; i++) x += i % 7;
    expect(x).toBeGreaterThan(0);
    const second = sampler.sample(process.pid)!;
    expect(second.start_time).toBe(first.start_time);
    expect(second.cpu_percent).toBeGreaterThanOrEqual(0);
    const group = sampler.sampleGroup(first.pgid)!;
    expect(group.pids).toContain(process.pid);
  });
});
