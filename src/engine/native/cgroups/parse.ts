// Where this process's cgroups are: /proc/self/cgroup (membership per hierarchy) joined with
// /proc/self/mountinfo (where each hierarchy is mounted). Pure functions, tested on fixture text.

import { join } from "node:path";

export interface CgroupMembership {
  /** Hierarchy id; 0 is the v2 unified hierarchy. */
  id: number;
  /** v1 controllers (`cpu`, `cpuacct`, `name=systemd`); empty for v2. */
  controllers: string[];
  path: string;
}

export interface CgroupMount {
  mountPoint: string;
  /** The hierarchy path the mount shows at its top (not `/` inside containers without cgroupns). */
  root: string;
  fsType: "cgroup" | "cgroup2";
  /** v1 controllers from the super options; empty for v2. */
  controllers: string[];
}

export function parseProcCgroup(text: string): CgroupMembership[] {
  const out: CgroupMembership[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (m === null) continue;
    out.push({ id: Number(m[1]), controllers: (m[2] ?? "").split(",").filter(Boolean), path: m[3] ?? "/" });
  }
  return out;
}

const V1_CONTROLLERS = new Set(["cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer", "blkio"]);

/** Mountinfo: `id parent maj:min root mountpoint opts [optional…] - fstype source superopts`. */
export function parseMountinfo(text: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    const fsType = right[0];
    if (fsType !== "cgroup" && fsType !== "cgroup2") continue;
    const superOptions = (right[2] ?? "").split(",");
    out.push({
      mountPoint: unescapeMount(left[4] ?? ""),
      root: unescapeMount(left[3] ?? "/"),
      fsType,
      controllers: fsType === "cgroup" ? superOptions.filter((o) => V1_CONTROLLERS.has(o)) : [],
    });
  }
  return out;
}

/** The directory of our own group in a mounted hierarchy, or null when the mount does not show it. */
export function groupDir(mount: CgroupMount, path: string): string | null {
  const root = mount.root === "/" ? "" : mount.root.replace(/\/+$/, "");
  if (root !== "" && path !== root && !path.startsWith(`${root}/`)) return null;
  const dir = join(mount.mountPoint, path.slice(root.length));
  return dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
}

export interface V1Hierarchy {
  controllers: string[];
  /** Our group's directory in this hierarchy. */
  dir: string;
}

/** v1 hierarchies we are a member of, by controller (co-mounted controllers share one entry). */
export function v1Hierarchies(
  memberships: CgroupMembership[],
  mounts: CgroupMount[],
): Map<string, V1Hierarchy> {
  const out = new Map<string, V1Hierarchy>();
  for (const mount of mounts) {
    if (mount.fsType !== "cgroup" || mount.controllers.length === 0) continue;
    const member = memberships.find(
      (m) => m.id !== 0 && mount.controllers.every((c) => m.controllers.includes(c)),
    );
    if (member === undefined) continue;
    const dir = groupDir(mount, member.path);
    if (dir === null) continue;
    const h = { controllers: mount.controllers, dir };
    for (const c of mount.controllers) if (!out.has(c)) out.set(c, h);
  }
  return out;
}

/** Our group's directory in the v2 hierarchy, or null without one. */
export function v2Dir(memberships: CgroupMembership[], mounts: CgroupMount[]): string | null {
  const member = memberships.find((m) => m.id === 0 && m.controllers.length === 0);
  if (member === undefined) return null;
  for (const mount of mounts) {
    if (mount.fsType !== "cgroup2") continue;
    const dir = groupDir(mount, member.path);
    if (dir !== null) return dir;
  }
  return null;
}

function unescapeMount(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}
