// The compiled master's lifecycle: ready, pid lock, refusing a second master, clean shutdown.
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, run, startMaster, tempDir } from "./harness.ts";

afterAll(cleanupAll);

async function readyWorkDir(): Promise<string> {
  const wd = tempDir();
  expect((await run(["init", wd])).code).toBe(0);
  return wd;
}

test("start logs what it loaded, is ready, holds the pid file and stops cleanly on SIGTERM", async () => {
  const wd = await readyWorkDir();
  const master = startMaster(["-w", wd]);
  const loaded = await master.waitFor("master_config_loaded");
  expect(loaded.workdir).toBe(wd);
  expect(Array.isArray(loaded.services)).toBe(true);
  const ready = await master.waitFor("master_ready");
  expect(ready.pid).toBe(master.proc.pid);
  const pidFile = join(wd, "var/run/openedge.pid");
  expect(readFileSync(pidFile, "utf8").trim()).toBe(String(master.proc.pid));

  const status = await run(["status", "-w", wd]);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(`pid ${master.proc.pid}`);

  const second = await run(["start", "-w", wd]);
  expect(second.code).toBe(1);
  expect(second.stderr).toContain(`another openedge master is running (pid ${master.proc.pid}`);

  expect(await master.stop("SIGTERM")).toBe(0);
  await master.waitFor("master_stopped");
  expect(existsSync(pidFile)).toBe(false);
  expect(existsSync(join(wd, "var/run/openedge.sock"))).toBe(false);
  expect((await run(["status", "-w", wd])).code).toBe(3);
});

test("SIGINT stops it too, and `openedge stop` waits for the exit", async () => {
  const wd = await readyWorkDir();
  const a = startMaster(["-w", wd]);
  await a.waitFor("master_ready");
  expect(await a.stop("SIGINT")).toBe(0);

  const b = startMaster(["-w", wd]);
  await b.waitFor("master_ready");
  const stop = await run(["stop", "-w", wd]);
  expect(stop.code).toBe(0);
  expect(stop.stdout).toContain(`openedge stopped (pid ${b.proc.pid})`);
  expect(await b.exited).toBe(0);
});

test("a stale pid file from a dead process is taken over", async () => {
  const wd = await readyWorkDir();
  const dead = Bun.spawn(["true"]);
  await dead.exited;
  writeFileSync(join(wd, "var/run/openedge.pid"), `${dead.pid}\n`);
  const master = startMaster(["-w", wd]);
  await master.waitFor("master_ready");
  expect(readFileSync(join(wd, "var/run/openedge.pid"), "utf8").trim()).toBe(String(master.proc.pid));
  expect(await master.stop()).toBe(0);
});

test("stop without a running master says so and fails", async () => {
  const wd = await readyWorkDir();
  const r = await run(["stop", "-w", wd]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("openedge is not running");
});

test("start --init on an empty dir writes the example work dir and runs it", async () => {
  const wd = tempDir();
  const master = startMaster(["-w", wd, "--init"]);
  await master.waitFor("master_ready");
  expect(existsSync(join(wd, "var/db/openedge/application.yml"))).toBe(true);
  expect(await master.stop()).toBe(0);
});

test("a master writes its log file under var/log/openedge", async () => {
  const wd = await readyWorkDir();
  const master = startMaster(["-w", wd]);
  await master.waitFor("master_ready");
  expect(await master.stop()).toBe(0);
  const log = readFileSync(join(wd, "var/log/openedge/openedge.log"), "utf8");
  expect(log).toContain("master_ready");
});
