// Native packages as OpenEdge laid them out: image `a/b:1.0` is the folder `lib/openedge/a/b/1.0`
// inside the instance dir (supplied by one of the mounts), holding package.yml whose `entry` is the
// executable, relative to that folder.

import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { parse } from "yaml";
import { OpenEdgeError } from "../../lib/errors.ts";
import type { MountSpec, ServiceSpec } from "../types.ts";

export interface NativePackage {
  /** Package folder relative to the instance dir (`lib/openedge/<image>`). */
  relDir: string;
  /** The same folder on the host, through the mount that supplies it. */
  hostDir: string;
  /** `entry` from package.yml, relative to the package folder. */
  entry: string;
}

export function packageRelDir(image: string): string {
  return posix.join("lib/openedge", image.replaceAll(":", "/"));
}

/** The host path behind an instance-relative path, through the deepest mount that covers it. */
export function hostPathFor(mounts: readonly MountSpec[], relPath: string): string | null {
  const target = posix.normalize(relPath);
  let best: { mount: MountSpec; rel: string } | null = null;
  for (const mount of mounts) {
    const at = posix.normalize(mount.path).replace(/\/+$/, "");
    if (target !== at && !target.startsWith(`${at}/`)) continue;
    if (best === null || at.length > posix.normalize(best.mount.path).length) {
      best = { mount, rel: target.slice(at.length).replace(/^\//, "") };
    }
  }
  return best === null ? null : join(best.mount.hostPath, best.rel);
}

/** Finds and checks the package of a service; throws ERR_NOT_FOUND / ERR_CONFIG naming what is wrong. */
export function resolvePackage(spec: ServiceSpec): NativePackage {
  const relDir = packageRelDir(spec.image);
  const details = { service: spec.name, image: spec.image, package: relDir };
  const hostDir = hostPathFor(spec.mounts, relDir);
  if (hostDir === null) {
    throw new OpenEdgeError(
      "ERR_NOT_FOUND",
      `service "${spec.name}": no volume is mounted at "${relDir}" to supply the package of image "${spec.image}"`,
      { details },
    );
  }
  const manifest = join(hostDir, "package.yml");
  let text: string;
  try {
    text = readFileSync(manifest, "utf8");
  } catch (err) {
    throw new OpenEdgeError(
      "ERR_NOT_FOUND",
      `service "${spec.name}": package "${relDir}" has no package.yml (looked at ${manifest})`,
      { cause: err, details: { ...details, path: manifest } },
    );
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new OpenEdgeError("ERR_CONFIG", `service "${spec.name}": ${manifest} is not valid YAML`, {
      cause: err,
      details: { ...details, path: manifest },
    });
  }
  const entry = (doc as { entry?: unknown } | null)?.entry;
  if (typeof entry !== "string" || entry.trim() === "") {
    throw new OpenEdgeError("ERR_CONFIG", `service "${spec.name}": ${manifest} has no "entry"`, {
      details: { ...details, path: manifest },
    });
  }
  if (posix.isAbsolute(entry) || posix.normalize(entry).startsWith("..")) {
    throw new OpenEdgeError(
      "ERR_CONFIG",
      `service "${spec.name}": entry "${entry}" must stay inside the package`,
      {
        details: { ...details, path: manifest, entry },
      },
    );
  }
  const entryPath = join(hostDir, entry);
  try {
    if (!statSync(entryPath).isFile()) throw new Error("not a regular file");
    accessSync(entryPath, constants.X_OK);
  } catch (err) {
    throw new OpenEdgeError(
      "ERR_NOT_FOUND",
      `service "${spec.name}": entry "${entry}" of package "${relDir}" is missing or not executable (${entryPath})`,
      { cause: err, details: { ...details, path: entryPath, entry } },
    );
  }
  return { relDir, hostDir, entry };
}
