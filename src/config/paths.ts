// Paths and addresses in config files. Paths are relative to the work dir (OpenEdge's convention);
// a volume must stay inside it. `unix://` addresses of our own sockets resolve inside the work dir too.

import { isAbsolute, relative, resolve, sep } from "node:path";

/** An absolute path: relative paths resolve against the work dir, absolute ones are kept. */
export function resolveWorkPath(workDir: string, path: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(workDir, path);
}

/** The absolute path when `path` names something strictly inside the work dir, else null. */
export function insideWorkDir(workDir: string, path: string): string | null {
  const root = resolve(workDir);
  const abs = resolveWorkPath(root, path);
  const rel = relative(root, abs);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
  return abs;
}

/** True when a path has a `..` segment (a mount path must not climb out of its instance). */
export function hasDotDot(path: string): boolean {
  return path.split(/[\\/]+/).includes("..");
}

/** A mount path in a comparable form: no leading/trailing slashes, no `.` segments, no doubled `/`. */
export function normalizeMountPath(path: string): string {
  return path
    .split("/")
    .filter((s) => s !== "" && s !== ".")
    .join("/");
}

export type Endpoint = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

export const ADDRESS_RULE =
  "must be an address such as unix:///var/run/openedge.sock or tcp://127.0.0.1:50050";

/**
 * Parses `unix://PATH` or `tcp://HOST:PORT`. With `workDir`, a unix path is taken inside the work dir
 * whatever its leading slashes (OpenEdge wrote `unix:///var/run/openedge.sock` and meant that);
 * without, it is a host path (such as Docker's socket). Null when the address does not parse.
 */
export function parseAddress(address: string, workDir?: string): Endpoint | null {
  const unix = /^unix:\/\/(.+)$/.exec(address);
  if (unix) {
    const path = unix[1] ?? "";
    if (workDir === undefined) return isAbsolute(path) ? { kind: "unix", path: resolve(path) } : null;
    return { kind: "unix", path: resolve(workDir, path.replace(/^\/+/, "")) };
  }
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]*):(\d{1,5})$/.exec(address);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port > 65535) return null;
    return { kind: "tcp", host: (tcp[1] ?? "").replace(/^\[|\]$/g, ""), port };
  }
  return null;
}
