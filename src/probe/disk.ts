// Disk usage of the filesystem holding a path (the work dir) through statfs(2), with the numbers `df`
// shows: free is what an unprivileged process may still use, the root reserve counts as neither.

import { statfsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { errorMessage } from "../lib/errors.ts";
import { percent } from "./read-file.ts";
import type { DiskStats } from "./types.ts";

/** statfs f_type magic numbers (linux/magic.h) of filesystems a gateway is likely to sit on. */
const FS_TYPES: Record<number, string> = {
  61267: "ext4",
  1481003842: "xfs",
  2435016766: "btrfs",
  4076150800: "f2fs",
  16914836: "tmpfs",
  2035054128: "overlay",
  1936814952: "squashfs",
  19780: "vfat",
  1397118030: "ntfs",
  538032816: "exfat",
  26985: "nfs",
  4283649346: "cifs",
  1702057286: "fuse",
  801189825: "zfs",
  604313861: "ubifs",
  684539205: "cramfs",
  827541066: "jfs",
  1382369651: "reiserfs",
};

export interface StatfsNumbers {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

export function diskStatsFromStatfs(path: string, s: StatfsNumbers): DiskStats {
  const total = s.blocks * s.bsize;
  const free = s.bavail * s.bsize;
  const used = (s.blocks - s.bfree) * s.bsize;
  const inodesUsed = Math.max(0, s.files - s.ffree);
  return {
    path,
    fstype: FS_TYPES[s.type] ?? `0x${s.type.toString(16)}`,
    total,
    free,
    used,
    // as df: used over what is usable (used + available), so a full disk reads 100% despite the reserve
    used_percent: percent(used, used + free),
    inodes_total: s.files,
    inodes_free: s.ffree,
    inodes_used: inodesUsed,
    inodes_used_percent: percent(inodesUsed, s.files),
  };
}

/**
 * Disk stats for the filesystem of `path`. A path not created yet is measured on its nearest existing
 * parent (the filesystem it will land on); when nothing can be stat'ed the zeros carry an `error`.
 */
export function readDiskStats(path: string): DiskStats {
  const abs = resolve(path);
  let at = abs;
  for (;;) {
    try {
      return diskStatsFromStatfs(abs, statfsSync(at));
    } catch (err) {
      const parent = dirname(at);
      if (parent !== at && isNotFound(err)) {
        at = parent;
        continue;
      }
      const zeros = { type: 0, bsize: 0, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0 };
      return { ...diskStatsFromStatfs(abs, zeros), fstype: "", error: errorMessage(err) };
    }
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === "ENOENT";
}
