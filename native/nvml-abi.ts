// NVML's C ABI as nvml.h declares it (return codes, buffer sizes, struct layouts) and the pure decoding
// of its out-buffers, kept apart from bun:ffi so it can be tested without a GPU.

/** nvmlReturn_t values (nvml.h `nvmlReturn_enum`). */
export const NVML_SUCCESS = 0;
export const NVML_ERROR_NOT_SUPPORTED = 3;
export const NVML_ERROR_DRIVER_NOT_LOADED = 9;
export const NVML_ERROR_LIBRARY_NOT_FOUND = 12;

const RETURN_NAMES: Record<number, string> = {
  0: "success",
  1: "NVML was not initialized",
  2: "invalid argument",
  3: "not supported",
  4: "no permission",
  5: "already initialized",
  6: "not found",
  7: "insufficient size",
  8: "insufficient external power",
  9: "driver not loaded",
  10: "timeout",
  11: "interrupt request issue",
  12: "NVML shared library not found",
  13: "function not found",
  14: "corrupted inforom",
  15: "GPU is lost",
  16: "GPU requires reset",
  17: "operating system call failed",
  18: "driver/library version mismatch",
  19: "in use",
  20: "insufficient memory",
  21: "no data",
  22: "vGPU ECC not supported",
  23: "insufficient resources",
  24: "frequency not supported",
  25: "argument version mismatch",
  26: "deprecated",
  27: "not ready",
  28: "GPU not found",
  29: "invalid state",
  999: "unknown error",
};

/** A log-friendly text for an nvmlReturn_t, code included (`GPU is lost (15)`). */
export function nvmlReturnText(code: number): string {
  return `${RETURN_NAMES[code] ?? "unknown error"} (${code})`;
}

/** NVML_DEVICE_NAME_V2_BUFFER_SIZE and NVML_DEVICE_UUID_V2_BUFFER_SIZE: large enough on every driver. */
export const NAME_BUFFER_SIZE = 96;
export const UUID_BUFFER_SIZE = 96;

/** nvmlMemory_t: three `unsigned long long` (total, free, used), 24 bytes. */
export const MEMORY_STRUCT_SIZE = 24;
/** nvmlUtilization_t: two `unsigned int` (gpu, memory), 8 bytes. */
export const UTILIZATION_STRUCT_SIZE = 8;

export interface NvmlMemory {
  total: number;
  free: number;
  used: number;
}

export interface NvmlUtilization {
  gpu: number;
  memory: number;
}

/** Decodes an nvmlMemory_t buffer (native byte order: little-endian on x64 and arm64). */
export function decodeMemory(buf: Uint8Array): NvmlMemory {
  const view = new DataView(buf.buffer, buf.byteOffset, MEMORY_STRUCT_SIZE);
  return {
    total: Number(view.getBigUint64(0, true)),
    free: Number(view.getBigUint64(8, true)),
    used: Number(view.getBigUint64(16, true)),
  };
}

export function decodeUtilization(buf: Uint8Array): NvmlUtilization {
  const view = new DataView(buf.buffer, buf.byteOffset, UTILIZATION_STRUCT_SIZE);
  return { gpu: view.getUint32(0, true), memory: view.getUint32(4, true) };
}

/** A NUL-terminated C string out of a fixed-size char buffer. */
export function decodeCString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
}
