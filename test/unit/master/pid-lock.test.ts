import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";
import { acquirePidLock, readPidFile } from "../../../src/master/pid-lock.ts";

const dirs: string[] = [];
function pidPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "oe-pid-"));
  dirs.push(dir);
  return join(dir, "var/run/openedge.pid");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("the lock writes our pid and release removes it", () => {
  const path = pidPath();
  const lock = acquirePidLock(path);
  expect(readPidFile(path)).toBe(process.pid);
  lock.release();
  expect(existsSync(path)).toBe(false);
});

test("a live master holding the file refuses a second one with ERR_LOCKED naming the pid", async () => {
  const path = pidPath();
  // a real other process whose command line looks like a master (bun running a script); wait until
  // it runs: between fork and exec its /proc cmdline is not yet its own
  const other = Bun.spawn([process.execPath, "-e", 'console.log("up"); setTimeout(() => {}, 60000)'], {
    stdout: "pipe",
  });
  try {
    await other.stdout.getReader().read();
    acquirePidLock(path, other.pid); // written on behalf of the other process
    let caught: unknown;
    try {
      acquirePidLock(path);
    } catch (err) {
      caught = err;
    }
    expect(isOpenEdgeError(caught, "ERR_LOCKED")).toBe(true);
    expect((caught as Error).message).toContain(`pid ${other.pid}`);
    expect(readPidFile(path)).toBe(other.pid);
  } finally {
    other.kill(9);
  }
});

test("a stale pid file from a dead process is taken over", async () => {
  const path = pidPath();
  const dead = Bun.spawn(["true"]);
  await dead.exited;
  acquirePidLock(path, dead.pid);
  const lock = acquirePidLock(path);
  expect(readPidFile(path)).toBe(process.pid);
  lock.release();
});

/** Resolves once the process has exec'd `command` (before that its cmdline is its parent's). */
async function execed(pid: number, command: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith(`${command}\0`)) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} did not exec ${command}`);
    await Bun.sleep(1);
  }
}

test("a recycled pid running something that is not a master does not hold the lock", async () => {
  const path = pidPath();
  const sleeper = Bun.spawn(["sleep", "30"]);
  try {
    await execed(sleeper.pid, "sleep");
    acquirePidLock(path, sleeper.pid);
    const lock = acquirePidLock(path);
    expect(readFileSync(path, "utf8").trim()).toBe(String(process.pid));
    lock.release();
  } finally {
    sleeper.kill(9);
  }
});

test("release leaves a pid file that another master has since written", () => {
  const path = pidPath();
  const lock = acquirePidLock(path);
  writeFileSync(path, "999999\n");
  lock.release();
  expect(readPidFile(path)).toBe(999999);
});
