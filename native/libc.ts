// bun:ffi bindings to the few libc calls Bun does not expose: prctl (child subreaper) and a
// non-blocking waitpid for exactly one pid (reaping orphans Bun did not spawn).

import { dlopen, FFIType, ptr } from "bun:ffi";

const PR_SET_CHILD_SUBREAPER = 36;
const PR_GET_CHILD_SUBREAPER = 37;
const WNOHANG = 1;

const SYMBOLS = {
  prctl: {
    args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64],
    returns: FFIType.i32,
  },
  waitpid: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
} as const;

type Libc = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

// glibc first, then musl spellings (Alpine-based gateways).
const CANDIDATES = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libc.so"];

let loaded: { libc: Libc } | { error: string } | undefined;

function load(): { libc: Libc } | { error: string } {
  if (loaded !== undefined) return loaded;
  const errors: string[] = [];
  if (process.platform !== "linux") {
    loaded = { error: `libc bindings need linux (platform ${process.platform})` };
    return loaded;
  }
  for (const name of CANDIDATES) {
    try {
      loaded = { libc: dlopen(name, SYMBOLS).symbols };
      return loaded;
    } catch (err) {
      errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  loaded = { error: `cannot load libc (${errors.join("; ")})` };
  return loaded;
}

export type LibcResult = { ok: true } | { ok: false; reason: string };

/**
 * Makes this process a child subreaper: orphaned descendants are reparented to it instead of init,
 * so the engine can find and reap what a service's double-forked daemons leave behind.
 */
export function setChildSubreaper(): LibcResult {
  const l = load();
  if ("error" in l) return { ok: false, reason: l.error };
  const rc = l.libc.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n);
  return rc === 0 ? { ok: true } : { ok: false, reason: `prctl(PR_SET_CHILD_SUBREAPER) returned ${rc}` };
}

/** Whether this process is a child subreaper (false when libc cannot be loaded). */
export function isChildSubreaper(): boolean {
  const l = load();
  if ("error" in l) return false;
  const out = new Int32Array(1);
  // prctl(PR_GET_CHILD_SUBREAPER, int *) writes the flag through the pointer.
  const rc = l.libc.prctl(PR_GET_CHILD_SUBREAPER, BigInt(ptr(out)), 0n, 0n, 0n);
  return rc === 0 && out[0] === 1;
}

/**
 * waitpid(pid, WNOHANG) for exactly one pid. Returns the raw wait status when the child was reaped,
 * null when it is still running or is not our child. Never call it with -1 or a pid Bun spawned:
 * that would steal the exit status Bun is waiting for.
 */
export function waitpidNoHang(pid: number): number | null {
  if (!Number.isInteger(pid) || pid <= 0)
    throw new RangeError(`waitpidNoHang needs a positive pid, got ${pid}`);
  const l = load();
  if ("error" in l) return null;
  const status = new Int32Array(1);
  const rc = l.libc.waitpid(pid, status, WNOHANG);
  return rc === pid ? (status[0] ?? 0) : null;
}
