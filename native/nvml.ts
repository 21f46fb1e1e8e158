// NVIDIA GPUs through NVML, loaded at run time with bun:ffi (dlopen of the driver's libnvidia-ml), so
// the executable has no build-time CUDA dependency and a device without the driver just sees no GPUs.
// Nothing is opened until openNvml is called; nothing here throws.

import { dlopen, FFIType, type Library } from "bun:ffi";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  decodeCString,
  decodeMemory,
  decodeUtilization,
  MEMORY_STRUCT_SIZE,
  NAME_BUFFER_SIZE,
  NVML_ERROR_NOT_SUPPORTED,
  NVML_SUCCESS,
  type NvmlMemory,
  type NvmlUtilization,
  nvmlReturnText,
  UTILIZATION_STRUCT_SIZE,
  UUID_BUFFER_SIZE,
} from "./nvml-abi.ts";

const SONAME = "libnvidia-ml.so.1";

/** Where drivers and the NVIDIA container toolkit put the library, tried before anything else. */
export const NVML_LIBRARY_PATHS: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1",
  "/usr/lib/aarch64-linux-gnu/libnvidia-ml.so.1",
  "/usr/lib/aarch64-linux-gnu/nvidia/libnvidia-ml.so.1",
  "/usr/local/nvidia/lib64/libnvidia-ml.so.1",
  "/usr/lib64/libnvidia-ml.so.1",
  "/usr/lib/libnvidia-ml.so.1",
];

/** Directories listed in /etc/ld.so.conf.d/*.conf, where driver packages register their own lib dir. */
function ldConfigDirs(confDir = "/etc/ld.so.conf.d"): string[] {
  const dirs: string[] = [];
  let names: string[];
  try {
    names = readdirSync(confDir).filter((n) => n.endsWith(".conf"));
  } catch {
    return dirs;
  }
  for (const name of names.sort()) {
    let text: string;
    try {
      text = readFileSync(join(confDir, name), "utf8");
    } catch {
      continue;
    }
    for (const raw of text.split("\n")) {
      const line = raw.replace(/#.*/, "").trim();
      if (line.startsWith("/")) dirs.push(line);
    }
  }
  return dirs;
}

/**
 * The default search: known paths, then ld.so.conf.d directories, then the bare soname for the dynamic
 * loader. Bun resolves a bare name against the working directory first, so the soname is left out
 * when a file of that name sits there: a planted library must not load into the master.
 */
export function defaultNvmlCandidates(): string[] {
  const out = [...NVML_LIBRARY_PATHS];
  for (const dir of ldConfigDirs()) {
    const path = join(dir, SONAME);
    if (!out.includes(path)) out.push(path);
  }
  if (!existsSync(SONAME)) out.push(SONAME);
  return out;
}

// nvmlReturn_t is a C enum (int); nvmlDevice_t is an opaque pointer. The _v2 entry points are the ones
// nvml.h maps the plain names to since driver 325 (`#define nvmlInit nvmlInit_v2`).
const SYMBOLS = {
  nvmlInit_v2: { args: [], returns: FFIType.i32 },
  nvmlShutdown: { args: [], returns: FFIType.i32 },
  nvmlDeviceGetCount_v2: { args: [FFIType.ptr], returns: FFIType.i32 },
  nvmlDeviceGetHandleByIndex_v2: { args: [FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
  nvmlDeviceGetName: { args: [FFIType.ptr, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  nvmlDeviceGetUUID: { args: [FFIType.ptr, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  nvmlDeviceGetMemoryInfo: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  nvmlDeviceGetUtilizationRates: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
} as const;

type NvmlLibrary = Library<typeof SYMBOLS>;

export interface NvmlGpu {
  index: number;
  name: string;
  uuid: string;
  /** Bytes; null where the query failed. */
  memory: NvmlMemory | null;
  /** Percent over the driver's last sample period; null where unsupported (some vGPU/MIG setups). */
  utilization: NvmlUtilization | null;
  /** The first failed query of this GPU, as `nvmlDeviceGetMemoryInfo: GPU is lost (15)`. */
  error?: string;
}

export interface NvmlDevices {
  gpus: NvmlGpu[];
  /** Set when even the device count failed. */
  error?: string;
}

export type NvmlAbsence = "library_not_found" | "init_failed";

/** What an opened NVML offers; NvmlSession is the real one, tests hand in their own. */
export interface Nvml {
  /** The library that was loaded. */
  readonly path: string;
  devices(): NvmlDevices;
  close(): void;
}

export type NvmlOpenResult =
  | { ok: true; nvml: Nvml }
  | { ok: false; reason: NvmlAbsence; detail: string; code?: number };

export interface NvmlOptions {
  /** Library names or paths to try in order; defaultNvmlCandidates() by default. */
  paths?: readonly string[];
}

/** An initialised NVML; keep it open between readings (init is slow without persistence mode). */
export class NvmlSession implements Nvml {
  private closed = false;

  constructor(
    private readonly lib: NvmlLibrary,
    /** The library that was loaded. */
    readonly path: string,
  ) {}

  devices(): NvmlDevices {
    if (this.closed) return { gpus: [], error: "nvml session closed" };
    const fns = this.lib.symbols;
    const count = new Uint32Array(1);
    const rc = fns.nvmlDeviceGetCount_v2(count);
    if (rc !== NVML_SUCCESS) return { gpus: [], error: `nvmlDeviceGetCount_v2: ${nvmlReturnText(rc)}` };
    const gpus: NvmlGpu[] = [];
    for (let index = 0; index < count[0]!; index++) gpus.push(this.device(index));
    return { gpus };
  }

  /** nvmlShutdown and dlclose; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.lib.symbols.nvmlShutdown();
    } finally {
      this.lib.close();
    }
  }

  private device(index: number): NvmlGpu {
    const fns = this.lib.symbols;
    const gpu: NvmlGpu = { index, name: "", uuid: "", memory: null, utilization: null };
    const fail = (call: string, rc: number) => {
      gpu.error ??= `${call}: ${nvmlReturnText(rc)}`;
    };

    const handleOut = new BigUint64Array(1);
    const rc = fns.nvmlDeviceGetHandleByIndex_v2(index, handleOut);
    if (rc !== NVML_SUCCESS) {
      fail("nvmlDeviceGetHandleByIndex_v2", rc);
      return gpu;
    }
    const handle = handleOut[0]!;

    const name = new Uint8Array(NAME_BUFFER_SIZE);
    const nameRc = fns.nvmlDeviceGetName(handle, name, NAME_BUFFER_SIZE);
    if (nameRc === NVML_SUCCESS) gpu.name = decodeCString(name);
    else fail("nvmlDeviceGetName", nameRc);

    const uuid = new Uint8Array(UUID_BUFFER_SIZE);
    const uuidRc = fns.nvmlDeviceGetUUID(handle, uuid, UUID_BUFFER_SIZE);
    if (uuidRc === NVML_SUCCESS) gpu.uuid = decodeCString(uuid);
    else fail("nvmlDeviceGetUUID", uuidRc);

    const memory = new Uint8Array(MEMORY_STRUCT_SIZE);
    const memRc = fns.nvmlDeviceGetMemoryInfo(handle, memory);
    if (memRc === NVML_SUCCESS) gpu.memory = decodeMemory(memory);
    else if (memRc !== NVML_ERROR_NOT_SUPPORTED) fail("nvmlDeviceGetMemoryInfo", memRc);

    const util = new Uint8Array(UTILIZATION_STRUCT_SIZE);
    const utilRc = fns.nvmlDeviceGetUtilizationRates(handle, util);
    if (utilRc === NVML_SUCCESS) gpu.utilization = decodeUtilization(util);
    else if (utilRc !== NVML_ERROR_NOT_SUPPORTED) fail("nvmlDeviceGetUtilizationRates", utilRc);

    return gpu;
  }
}

/** Loads libnvidia-ml from the first path that opens and initialises it. */
export function openNvml(options: NvmlOptions = {}): NvmlOpenResult {
  const tried: string[] = [];
  for (const path of options.paths ?? defaultNvmlCandidates()) {
    // an absolute path that is not there costs a stat, not a failed dlopen
    if (path.startsWith("/") && !existsSync(path)) continue;
    let lib: NvmlLibrary;
    try {
      lib = dlopen(path, SYMBOLS);
    } catch (err) {
      tried.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    let rc: number;
    try {
      rc = lib.symbols.nvmlInit_v2();
    } catch (err) {
      lib.close();
      return { ok: false, reason: "init_failed", detail: `nvmlInit_v2 (${path}): ${String(err)}` };
    }
    if (rc !== NVML_SUCCESS) {
      lib.close();
      return { ok: false, reason: "init_failed", code: rc, detail: `nvmlInit_v2: ${nvmlReturnText(rc)}` };
    }
    return { ok: true, nvml: new NvmlSession(lib, path) };
  }
  const detail = tried.length > 0 ? tried.join("; ") : `${SONAME} not found`;
  return { ok: false, reason: "library_not_found", detail };
}

/** One-shot listing: open, read every GPU, shut down. No library, no driver or no GPU → []. */
export function listNvmlGpus(options: NvmlOptions = {}): NvmlGpu[] {
  const opened = openNvml(options);
  if (!opened.ok) return [];
  try {
    return opened.nvml.devices().gpus;
  } finally {
    opened.nvml.close();
  }
}
