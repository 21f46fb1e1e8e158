// A master killed with SIGKILL leaves its instances running; the next `start` reaps exactly those
// (pid and start time from var/db/openedge/application.stats, and their cgroups) before it starts
// the application again, and never kills a process whose pid merely matches a record.

import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, onCleanup } from "./harness.ts";
import { MasterApi, running, until } from "./master-api.ts";
import { alive, stat } from "./procs.ts";
import { instanceLog, makeWorkDir, markedPids, startReady, stopCleanly } from "./workdir.ts";

afterAll(cleanupAll);

interface StateRecord {
  engine: string;
  service: string;
  instance: string;
  pid?: number;
  startTime?: number;
  cgroups?: string[];
}

test("after kill -9 of the master, the next start reaps the leftovers but not a recycled pid", async () => {
  const wd = makeWorkDir([
    { name: "svc", pkg: "sleeper", replica: 2 },
    { name: "spawner", pkg: "spawner" },
  ]);
  const first = await startReady(wd);
  const api = new MasterApi(wd);
  await api.instancesUntil("svc", "svc running", (i) => running(i, 2));
  await until(
    "the spawner's tree",
    () => instanceLog(wd, "spawner", "spawner"),
    (log) => log.includes("daemon=") && log.includes("spawned"),
  );
  const statsFile = join(wd, "var/db/openedge/application.stats");
  const state = await until(
    "the state file to list all three instances",
    () => JSON.parse(readFileSync(statsFile, "utf8")) as { version: number; instances: StateRecord[] },
    (doc) => doc.instances.length === 3,
  );
  expect(state.instances.map((r) => `${r.service}/${r.instance}`).sort()).toEqual([
    "spawner/spawner",
    "svc/svc",
    "svc/svc.i1",
  ]);

  first.proc.kill("SIGKILL");
  await first.exited;
  const leftovers = markedPids(wd);
  // the leaders, the spawner's children and its daemon all outlive the master
  expect(leftovers.length).toBeGreaterThanOrEqual(8);
  for (const record of state.instances) expect(alive(record.pid as number)).toBe(true);

  // an unrelated process now holds a recorded-looking pid, with another start time: a recycled pid
  const bystander = Bun.spawn(["sleep", "600"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  onCleanup(() => bystander.kill(9));
  const bystanderStart = stat(bystander.pid)?.startTime as number;
  state.instances.push({
    engine: "native",
    service: "svc",
    instance: "svc.i9",
    pid: bystander.pid,
    startTime: bystanderStart - 1,
  });
  writeFileSync(statsFile, JSON.stringify(state));

  const cgroups = state.instances.flatMap((r) => r.cgroups ?? []);
  for (const dir of cgroups) expect(existsSync(dir)).toBe(true);

  const second = await startReady(wd);
  for (const pid of leftovers) expect(alive(pid)).toBe(false);
  for (const dir of cgroups) expect(existsSync(dir)).toBe(false);
  expect(alive(bystander.pid)).toBe(true);
  const reaped = await second.waitFor("leftovers_reaped");
  expect((reaped.reaped as string[]).sort()).toEqual(["spawner", "svc", "svc.i1"]);
  expect(reaped.gone).toEqual(["svc.i9"]);

  const [svc, svc1] = await api.instancesUntil("svc", "svc running again", (i) => running(i, 2));
  const old = new Set(leftovers);
  expect(old.has(svc?.pid as number) || old.has(svc1?.pid as number)).toBe(false);
  await api.instancesUntil("spawner", "spawner running again", (i) => running(i, 1));
  await stopCleanly(second, wd);
  expect(alive(bystander.pid)).toBe(true);
  expect(markedPids(wd)).toEqual([]);
});
