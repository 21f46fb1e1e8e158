import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { memStatsFromMeminfo, parseMeminfo, readMemStats } from "../../../src/probe/index.ts";
import { PROC } from "./fixture-paths.ts";

describe("meminfo", () => {
  test("parses kB lines into bytes and bare counts as they are", () => {
    const info = parseMeminfo("MemTotal:  1000 kB\nHugePages_Total:  4\nnot a line\n");
    expect(info.get("MemTotal")).toBe(1000 * 1024);
    expect(info.get("HugePages_Total")).toBe(4);
    expect(info.size).toBe(2);
  });

  test("fixture: used is total minus available, swap from SwapTotal/SwapFree", () => {
    const mem = readMemStats({ procRoot: PROC });
    expect(mem.error).toBeUndefined();
    expect(mem.total).toBe(4045812 * 1024);
    expect(mem.free).toBe(1024000 * 1024);
    expect(mem.available).toBe(2560000 * 1024);
    expect(mem.used).toBe((4045812 - 2560000) * 1024);
    expect(mem.used_percent).toBe(36.72);
    expect(mem.buffers).toBe(102400 * 1024);
    expect(mem.cached).toBe((1228800 + 51200) * 1024);
    expect(mem.swap_total).toBe(1048572 * 1024);
    expect(mem.swap_free).toBe(524286 * 1024);
    expect(mem.swap_used).toBe(524286 * 1024);
    expect(mem.swap_used_percent).toBe(50);
  });

  test("a kernel without MemAvailable (< 3.14) estimates it from free + buffers + cache", () => {
    const mem = memStatsFromMeminfo(
      parseMeminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n"),
    );
    expect(mem.available).toBe(400 * 1024);
    expect(mem.used_percent).toBe(60);
    expect(mem.swap_used_percent).toBe(0);
  });

  test("unreadable meminfo gives zeros and an error, no throw", () => {
    const mem = readMemStats({ procRoot: join(PROC, "missing") });
    expect(mem.total).toBe(0);
    expect(mem.error).toContain("meminfo");
  });
});
