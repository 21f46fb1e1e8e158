// Small readers for /proc, /sys and /etc files: a missing or unreadable file is a normal answer on a
// minimal device (no GPU, no swap, a kernel built without an option), so they return null, never throw.

import { readdirSync, readFileSync } from "node:fs";

/** The whole file as text, or null when it cannot be read. */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** The file's text trimmed of whitespace and trailing NULs (device-tree strings end in one). */
export function readTrimmed(path: string): string | null {
  const text = readText(path);
  if (text === null) return null;
  const trimmed = text.replace(/\0+$/g, "").trim();
  return trimmed === "" ? null : trimmed;
}

/** The file's first whitespace-separated token as a finite number, or null. */
export function readNumber(path: string): number | null {
  const text = readTrimmed(path);
  if (text === null) return null;
  const value = Number(text.split(/\s+/, 1)[0]);
  return Number.isFinite(value) ? value : null;
}

/** Names in a directory, or an empty list when it cannot be listed. */
export function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** A finite number from a string, or 0 (counters that are absent read as zero). */
export function toNumber(text: string | undefined): number {
  if (text === undefined) return 0;
  const value = Number(text);
  return Number.isFinite(value) ? value : 0;
}

/** A percentage with two decimals, 0 when the whole is 0. */
export function percent(part: number, whole: number): number {
  if (!(whole > 0)) return 0;
  return Math.round((part / whole) * 10_000) / 100;
}
