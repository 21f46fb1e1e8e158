// The master's pid file doubles as its lock: created exclusively, holding our pid. A file left by a
// dead process (or by a recycled pid that is not an openedge master) is stale and taken over.

import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { OpenEdgeError } from "../lib/errors.ts";

export interface PidLock {
  path: string;
  pid: number;
  release(): void;
}

/** Is `pid` a live process? EPERM still means it exists (owned by someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function readPidFile(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** A zombie or a dead pid does not hold the lock; neither does a pid now running something else. */
function holdsLock(pid: number): boolean {
  if (pid === process.pid) return false;
  if (!processAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return false;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return /openedge|bun|main\.ts/.test(cmdline);
  } catch {
    // without /proc we cannot tell a recycled pid apart: err on the side of the lock being held
    return true;
  }
}

export function acquirePidLock(path: string, pid = process.pid): PidLock {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new OpenEdgeError("ERR_IO", `cannot create pid file ${path}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const holder = readPidFile(path);
      if (holder !== null && holdsLock(holder)) {
        throw new OpenEdgeError(
          "ERR_LOCKED",
          `another openedge master is running (pid ${holder}, pid file ${path}); stop it first`,
          { details: { pid: holder, path } },
        );
      }
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, `${pid}\n`);
    closeSync(fd);
    return {
      path,
      pid,
      release() {
        if (readPidFile(path) === pid) rmSync(path, { force: true });
      },
    };
  }
  throw new OpenEdgeError("ERR_LOCKED", `pid file ${path} keeps reappearing: another master is starting`);
}
