// Small file helpers for cgroupfs: values are short text files whose writes fail with meaningful errnos.

import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";

export function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

export function readNumber(path: string): number | null {
  const text = readText(path);
  if (text === null || text === "" || text === "max") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** Writes a value; returns null on success, else a short reason (`EINVAL writing cpuset.cpus`). */
export function writeValue(path: string, value: string): string | null {
  try {
    writeFileSync(path, value);
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return `${e.code ?? "error"} writing ${path}`;
  }
}

/** `key value` lines (cpu.stat, memory.events, memory.oom_control) → map. */
export function readKeyed(path: string): Map<string, number> {
  const out = new Map<string, number>();
  const text = readText(path);
  if (text === null) return out;
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k !== undefined && v !== undefined && Number.isFinite(Number(v))) out.set(k, Number(v));
  }
  return out;
}

export function readPids(path: string): number[] {
  const text = readText(path);
  if (text === null || text === "") return [];
  return text
    .split("\n")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** rmdir, retrying briefly on EBUSY (exiting tasks still leave a group busy for a moment). */
export async function removeDir(
  path: string,
  sleep: (ms: number) => Promise<void>,
  attempts = 40,
): Promise<string | null> {
  for (let i = 0; ; i++) {
    try {
      rmdirSync(path);
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return null;
      if (code !== "EBUSY" || i >= attempts) return `${code ?? "error"} removing ${path}`;
    }
    await sleep(25);
  }
}

/** mkdir of one level (the group above must exist: it is ours); null when it exists or was made. */
export function makeDir(path: string): string | null {
  try {
    mkdirSync(path);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "EEXIST" ? null : `${code ?? "error"} creating ${path}`;
  }
}
