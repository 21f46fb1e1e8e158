// The working folder of one native instance: `var/run/openedge/services/<service>/<instance>/`, where
// every mount is a symlink to its volume and `var/run/openedge.sock` points at the master's API.

import { lstatSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { isAbsolute, join, posix, relative } from "node:path";
import { OpenEdgeError } from "../../lib/errors.ts";
import type { MountSpec } from "../types.ts";

export const API_SOCKET_LINK = "var/run/openedge.sock";

export function instanceDirPath(workDir: string, service: string, instance: string): string {
  return join(workDir, "var/run/openedge/services", service, instance);
}

/** Checks that a name can be one path segment (service and instance names become folder names). */
export function assertSegment(kind: string, name: string): void {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
    throw new OpenEdgeError("ERR_CONFIG", `${kind} name "${name}" cannot be used as a folder name`, {
      details: { [kind]: name },
    });
  }
}

/** A mount's path relative to the instance dir, refused when it would leave it. */
export function mountRelPath(mount: MountSpec): string {
  const rel = posix
    .normalize(mount.path)
    .replace(/^\.\/+/, "")
    .replace(/\/+$/, "");
  if (rel === "" || rel === "." || posix.isAbsolute(rel) || rel === ".." || rel.startsWith("../")) {
    throw new OpenEdgeError(
      "ERR_CONFIG",
      `mount path "${mount.path}" must be relative and stay in the instance dir`,
      {
        details: { path: mount.path },
      },
    );
  }
  if (!isAbsolute(mount.hostPath)) {
    throw new OpenEdgeError("ERR_CONFIG", `volume path "${mount.hostPath}" must be absolute`, {
      details: { hostPath: mount.hostPath },
    });
  }
  return rel;
}

/** Creates the instance dir afresh (a stale one from a crash is replaced). */
export function createInstanceDir(dir: string, mounts: readonly MountSpec[], apiSocketPath: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const links = [
    ...mounts.map((m) => ({ rel: mountRelPath(m), target: m.hostPath })),
    { rel: API_SOCKET_LINK, target: apiSocketPath },
  ].sort((a, b) => a.rel.localeCompare(b.rel));
  for (const { rel, target } of links) {
    makeParents(dir, rel);
    try {
      symlinkSync(target, join(dir, rel));
    } catch (err) {
      throw new OpenEdgeError(
        "ERR_CONFIG",
        `cannot link "${rel}" to "${target}": ${(err as Error).message}`,
        {
          cause: err,
          details: { path: rel, target },
        },
      );
    }
  }
}

/** Removes the instance dir; symlinks are unlinked, never followed into the volumes. */
export function removeInstanceDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

// mkdir -p that refuses to walk through a symlink: a mount nested inside another mount would otherwise
// create folders inside the outer volume on the host.
function makeParents(root: string, rel: string): void {
  const parts = rel.split("/").slice(0, -1);
  let at = root;
  for (const part of parts) {
    at = join(at, part);
    let isLink = false;
    try {
      isLink = lstatSync(at).isSymbolicLink();
    } catch {
      mkdirSync(at);
      continue;
    }
    if (isLink) {
      throw new OpenEdgeError(
        "ERR_CONFIG",
        `mount path "${rel}" lies inside another mount ("${relative(root, at)}")`,
        {
          details: { path: rel },
        },
      );
    }
  }
}
