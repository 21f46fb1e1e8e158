import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Nvml, NvmlOpenResult } from "../../../native/nvml.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { MemorySink, SinkLogger } from "../../../src/log/index.ts";
import { findJetsonLoadPath, GpuProbe, jetsonLoadPercent, probeJetson } from "../../../src/probe/index.ts";
import { PROC, SYS, tempDir } from "./fixture-paths.ts";

const BOGUS = ["/nonexistent/libnvidia-ml.so.1"];

describe("Jetson sysfs", () => {
  test("load is per-mille; model is the NUL-terminated device-tree string; memory is system memory", () => {
    expect(findJetsonLoadPath(SYS)).toBe(join(SYS, "devices/gpu.0/load"));
    const gpu = probeJetson(SYS, PROC)!;
    expect(gpu).toEqual({
      index: 0,
      model: "NVIDIA Jetson Nano Developer Kit",
      uuid: "",
      source: "jetson",
      mem_total: 4045812 * 1024,
      mem_free: 2560000 * 1024,
      mem_used: (4045812 - 2560000) * 1024,
      mem_used_percent: 36.72,
      gpu_used_percent: 42.7,
      mem_util_percent: null,
    });
    expect(jetsonLoadPercent(1000)).toBe(100);
    expect(jetsonLoadPercent(5)).toBe(0.5);
  });

  test("Orin's load node under platform/ is found too", () => {
    const dir = tempDir();
    try {
      mkdirSync(join(dir.path, "devices/platform/17000000.ga10b"), { recursive: true });
      writeFileSync(join(dir.path, "devices/platform/17000000.ga10b/load"), "999\n");
      expect(probeJetson(dir.path, join(dir.path, "no-proc"))).toMatchObject({
        model: "NVIDIA Jetson",
        gpu_used_percent: 99.9,
      });
    } finally {
      dir.remove();
    }
  });

  test("not a Jetson → null", () => {
    expect(findJetsonLoadPath(join(SYS, "missing"))).toBeNull();
    expect(probeJetson(join(SYS, "missing"), PROC)).toBeNull();
  });
});

describe("GpuProbe", () => {
  test("no NVML and no Jetson → [], logged once at debug, never thrown", () => {
    const sink = new MemorySink();
    const probe = new GpuProbe({
      sysRoot: join(SYS, "missing"),
      nvmlPaths: BOGUS,
      log: new SinkLogger([sink], "debug"),
      cacheMs: 0,
    });
    expect(probe.list()).toEqual([]);
    expect(probe.list()).toEqual([]);
    expect(probe.nvmlLoaded()).toBe(false);
    expect(sink.records.filter((r) => r.msg === "nvml_unavailable")).toHaveLength(1);
    expect(sink.records[0]?.level).toBe("debug");
    probe.close();
  });

  test("this machine's standard paths → []", () => {
    expect(new GpuProbe({ sysRoot: join(SYS, "missing") }).list()).toEqual([]);
  });

  test("falls back to Jetson sysfs when NVML has no GPU", () => {
    const gpus = new GpuProbe({ sysRoot: SYS, procRoot: PROC, nvmlPaths: BOGUS }).list();
    expect(gpus).toHaveLength(1);
    expect(gpus[0]?.source).toBe("jetson");
  });

  test("NVML is loaded on the first reading only, readings are cached, failures retried later", async () => {
    const clock = new FakeClock();
    let opens = 0;
    let queries = 0;
    const session: Nvml = {
      path: "fake",
      devices: () => {
        queries++;
        return {
          gpus: [
            {
              index: 0,
              name: "Fake T4",
              uuid: "GPU-1",
              memory: { total: 1000, free: 750, used: 250 },
              utilization: { gpu: 5, memory: 1 },
            },
          ],
        };
      },
      close: () => {},
    };
    let result: NvmlOpenResult = {
      ok: false,
      reason: "init_failed",
      code: 9,
      detail: "driver not loaded (9)",
    };
    const probe = new GpuProbe({
      sysRoot: join(SYS, "missing"),
      clock,
      cacheMs: 1000,
      retryMs: 30_000,
      openNvml: () => {
        opens++;
        return result;
      },
    });
    expect(opens).toBe(0);
    expect(probe.list()).toEqual([]);
    expect(opens).toBe(1);

    // the driver comes up: not tried again before retryMs
    result = { ok: true, nvml: session };
    await clock.advance(10_000);
    expect(probe.list()).toEqual([]);
    expect(opens).toBe(1);
    await clock.advance(30_000);
    const gpus = probe.list();
    expect(opens).toBe(2);
    expect(gpus).toEqual([
      {
        index: 0,
        model: "Fake T4",
        uuid: "GPU-1",
        source: "nvml",
        mem_total: 1000,
        mem_free: 750,
        mem_used: 250,
        mem_used_percent: 25,
        gpu_used_percent: 5,
        mem_util_percent: 1,
      },
    ]);
    expect(probe.list()).toBe(gpus);
    expect(queries).toBe(1);
    await clock.advance(1000);
    probe.list();
    expect(queries).toBe(2);
    expect(opens).toBe(2);
  });

  test("a GPU with a failed query is reported with its error", () => {
    const session: Nvml = {
      path: "fake",
      devices: () => ({
        gpus: [
          {
            index: 0,
            name: "X",
            uuid: "",
            memory: null,
            utilization: null,
            error: "nvmlDeviceGetMemoryInfo: GPU is lost (15)",
          },
        ],
      }),
      close: () => {},
    };
    const sink = new MemorySink();
    const probe = new GpuProbe({
      openNvml: () => ({ ok: true, nvml: session }),
      log: new SinkLogger([sink], "debug"),
    });
    expect(probe.list()[0]).toMatchObject({
      error: "nvml: nvmlDeviceGetMemoryInfo: GPU is lost (15)",
      mem_total: 0,
      gpu_used_percent: null,
    });
    expect(sink.find("gpu_query_failed")?.level).toBe("warn");
  });
});
