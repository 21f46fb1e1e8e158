// execve(2) through bun:ffi: the Python runtime's runner becomes the interpreter (same pid, the
// engine's signals reach Python directly, and no ~50 MB Bun process stays resident per instance).

import { dlopen, FFIType, ptr } from "bun:ffi";

const LIBCS = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libc.so"];
const SYMBOLS = { execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } } as const;

function loadExecve(): ((path: number, argv: number, envp: number) => number) | null {
  if (process.platform !== "linux") return null;
  for (const name of LIBCS) {
    try {
      const lib = dlopen(name, SYMBOLS);
      return (path, argv, envp) => lib.symbols.execve(path as never, argv as never, envp as never);
    } catch {
      // try the next spelling
    }
  }
  return null;
}

/** A NULL-terminated array of C strings; `keep` must stay referenced until the call. */
function cStrings(list: readonly string[]): { array: BigUint64Array; keep: Buffer[] } {
  const keep = list.map((s) => Buffer.from(`${s}\0`, "utf8"));
  const array = new BigUint64Array(list.length + 1);
  keep.forEach((b, i) => {
    array[i] = BigInt(ptr(b));
  });
  return { array, keep };
}

/**
 * Replaces this process with `file` (an absolute path). Returns only when it could not: with the
 * reason (no libc binding here, or execve's failure), so the caller can fall back to spawning.
 */
export function execReplace(
  file: string,
  argv: readonly string[],
  env: Record<string, string | undefined>,
): string {
  const execve = loadExecve();
  if (execve === null) return "execve is not available on this platform";
  const path = Buffer.from(`${file}\0`, "utf8");
  const args = cStrings(argv);
  const envp = cStrings(
    Object.entries(env)
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, v]) => `${k}=${v}`),
  );
  const rc = execve(ptr(path), ptr(args.array), ptr(envp.array));
  // still here: execve failed (keep the buffers alive until after the call)
  void [path, args.keep, envp.keep];
  return `execve("${file}") returned ${rc}`;
}
