import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CpuSampler,
  cpuPercentBetween,
  parseCpuModel,
  parseLoadavg,
  parseProcStat,
} from "../../../src/probe/index.ts";
import { PROC } from "./fixture-paths.ts";

const STAT = readFileSync(join(PROC, "stat"), "utf8");

describe("/proc/stat", () => {
  test("fixture: aggregate times, online cpus, btime", () => {
    const stat = parseProcStat(STAT)!;
    expect(stat.cpu.total).toBe(10000 + 500 + 3000 + 80000 + 1000 + 200 + 300);
    expect(stat.cpu.busy).toBe(10000 + 500 + 3000 + 200 + 300);
    expect(stat.cores).toBe(2);
    expect(stat.btime).toBe(1700000000);
    expect(stat.procsRunning).toBe(2);
  });

  test("no cpu line → null", () => {
    expect(parseProcStat("btime 1\n")).toBeNull();
  });

  test("cpu percent across two samples is the busy share of the delta", () => {
    const first = parseProcStat(STAT)!;
    // +600 user, +300 system, +900 idle, +100 iowait → 900 busy of 1900
    const second = parseProcStat(STAT.replace(/^cpu .*$/m, "cpu  10600 500 3300 80900 1100 200 300 0 0 0"))!;
    expect(cpuPercentBetween(first.cpu, second.cpu)).toBe(47.37);

    const sampler = new CpuSampler();
    const sinceBoot = sampler.usedPercent(first.cpu);
    expect(sinceBoot).toBe(14.74); // 14000 / 95000
    expect(sampler.usedPercent(second.cpu)).toBe(47.37);
    // no tick passed: the last value again, not a division by zero
    expect(sampler.usedPercent(second.cpu)).toBe(47.37);
  });

  test("guest time is not counted twice (it is already inside user)", () => {
    const a = parseProcStat("cpu  100 0 0 100 0 0 0 0 0 0\n")!;
    const b = parseProcStat("cpu  200 0 0 100 0 0 0 0 100 0\n")!;
    expect(cpuPercentBetween(a.cpu, b.cpu)).toBe(100);
  });
});

describe("cpuinfo and loadavg", () => {
  test("model from `model name`, then the ARM and MIPS spellings", () => {
    expect(parseCpuModel(readFileSync(join(PROC, "cpuinfo"), "utf8"))).toBe("ARMv8 Processor rev 1 (v8l)");
    expect(parseCpuModel("processor : 0\nProcessor : ARMv7 Processor rev 4 (v7l)\n")).toBe(
      "ARMv7 Processor rev 4 (v7l)",
    );
    expect(parseCpuModel("processor : 0\nHardware : BCM2835\nModel : Raspberry Pi 3\n")).toBe("BCM2835");
    expect(parseCpuModel("processor : 0\n")).toBeNull();
  });

  test("load averages", () => {
    expect(parseLoadavg("0.52 0.38 0.21 2/187 4242\n")).toEqual({ load1: 0.52, load5: 0.38, load15: 0.21 });
    expect(parseLoadavg("garbage")).toBeNull();
  });
});
