import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { defaultNvmlCandidates, listNvmlGpus, NVML_LIBRARY_PATHS, openNvml } from "../../../native/nvml.ts";
import { decodeCString, decodeMemory, decodeUtilization, nvmlReturnText } from "../../../native/nvml-abi.ts";
import { FIXTURES, type TempDir, tempDir } from "./fixture-paths.ts";

describe("NVML ABI decoding", () => {
  test("nvmlMemory_t is total, free, used as little-endian u64", () => {
    const buf = new Uint8Array(24);
    const view = new DataView(buf.buffer);
    view.setBigUint64(0, 16106127361n, true);
    view.setBigUint64(8, 12884901888n, true);
    view.setBigUint64(16, 3221225473n, true);
    expect(decodeMemory(buf)).toEqual({ total: 16106127361, free: 12884901888, used: 3221225473 });
  });

  test("nvmlUtilization_t is gpu, memory as u32", () => {
    const buf = new Uint8Array(8);
    new DataView(buf.buffer).setUint32(0, 42, true);
    new DataView(buf.buffer).setUint32(4, 17, true);
    expect(decodeUtilization(buf)).toEqual({ gpu: 42, memory: 17 });
  });

  test("C strings stop at the NUL", () => {
    const buf = new Uint8Array(96);
    buf.set(new TextEncoder().encode("Tesla T4\0garbage"));
    expect(decodeCString(buf)).toBe("Tesla T4");
  });

  test("return codes read as words with the number", () => {
    expect(nvmlReturnText(15)).toBe("GPU is lost (15)");
    expect(nvmlReturnText(9)).toBe("driver not loaded (9)");
    expect(nvmlReturnText(12345)).toBe("unknown error (12345)");
  });
});

describe("NVML absent (this machine has no NVIDIA driver)", () => {
  test("standard paths → empty list, no throw", () => {
    const candidates = defaultNvmlCandidates();
    expect(candidates.slice(0, NVML_LIBRARY_PATHS.length)).toEqual([...NVML_LIBRARY_PATHS]);
    expect(candidates.at(-1)).toBe("libnvidia-ml.so.1");
    expect(listNvmlGpus()).toEqual([]);
  });

  test("a bogus path → library_not_found and an empty list", () => {
    const opened = openNvml({ paths: ["/nonexistent/libnvidia-ml.so.1", "libnvidia-ml-bogus.so.9"] });
    expect(opened.ok).toBe(false);
    if (!opened.ok) expect(opened.reason).toBe("library_not_found");
    expect(listNvmlGpus({ paths: ["/nonexistent/libnvidia-ml.so.1"] })).toEqual([]);
  });

  test("a library that is not NVML (missing symbols) → empty list", () => {
    expect(listNvmlGpus({ paths: ["libc.so.6"] })).toEqual([]);
  });
});

// The real driver cannot be exercised without a GPU; a C stand-in with nvml.h's signatures checks the
// ffi side: handle out-params, struct layouts, buffer sizes, return-code handling.
const cc = spawnSync("cc", ["--version"]).status === 0;

describe.skipIf(!cc)("NVML through bun:ffi against a fake libnvidia-ml", () => {
  let dir: TempDir;
  let lib = "";
  let noDriver = "";

  beforeAll(() => {
    dir = tempDir();
    lib = join(dir.path, "libfake-nvml.so");
    noDriver = join(dir.path, "libfake-nvml-nodriver.so");
    const src = join(FIXTURES, "fake-nvml.c");
    for (const [out, flags] of [
      [lib, []],
      [noDriver, ["-DINIT_RC=9"]],
    ] as const) {
      const r = spawnSync("cc", ["-shared", "-fPIC", "-O0", ...flags, "-o", out, src], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`cc failed: ${r.stderr}`);
    }
  });

  afterAll(() => dir?.remove());

  test("two GPUs: one fully read, one marked with the failed query", () => {
    const opened = openNvml({ paths: ["/nonexistent/libnvidia-ml.so.1", lib] });
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(opened.nvml.path).toBe(lib);
    const { gpus, error } = opened.nvml.devices();
    expect(error).toBeUndefined();
    expect(gpus).toEqual([
      {
        index: 0,
        name: "Fake Tesla T4",
        uuid: "GPU-00000000-1111-2222-3333-444444444444",
        memory: { total: 16106127361, free: 12884901888, used: 3221225473 },
        utilization: { gpu: 42, memory: 17 },
      },
      {
        index: 1,
        name: "Fake A100-SXM4-40GB",
        uuid: "GPU-00000001-1111-2222-3333-444444444444",
        memory: null,
        utilization: null,
        error: "nvmlDeviceGetMemoryInfo: GPU is lost (15)",
      },
    ]);
    opened.nvml.close();
    opened.nvml.close();
    expect(opened.nvml.devices()).toEqual({ gpus: [], error: "nvml session closed" });
  });

  test("a libnvidia-ml.so.1 planted in the working directory is not loaded by the default search", () => {
    const cwd = process.cwd();
    copyFileSync(lib, join(dir.path, "libnvidia-ml.so.1"));
    try {
      process.chdir(dir.path);
      expect(defaultNvmlCandidates()).not.toContain("libnvidia-ml.so.1");
      expect(listNvmlGpus()).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  test("init failing with DRIVER_NOT_LOADED → init_failed with the code, and [] from listNvmlGpus", () => {
    const opened = openNvml({ paths: [noDriver] });
    expect(opened).toMatchObject({ ok: false, reason: "init_failed", code: 9 });
    expect(listNvmlGpus({ paths: [noDriver] })).toEqual([]);
  });
});
