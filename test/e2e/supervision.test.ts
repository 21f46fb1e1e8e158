// Native services under the compiled master: replicas with their env, cwd and argv[0] (and `ps`);
// restarts of a killed instance with backoff; the restart policies and retry budget; process trees
// (background children, setsid, double-forked daemons) that leave nothing behind; SIGKILL after the
// grace period; cgroup memory limits; a service whose package is missing.

import { afterAll, expect, test } from "bun:test";
import { existsSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, run } from "./harness.ts";
import { MasterApi, running, until } from "./master-api.ts";
import { alive, cmdline, environ, pidsWithEnv, stat } from "./procs.ts";
import {
  instanceLog,
  MARKER,
  makeWorkDir,
  markedPids,
  SLEEP_BINARY_PACKAGE,
  startReady,
  stopCleanly,
} from "./workdir.ts";

afterAll(cleanupAll);

test("replicas run as distinct processes named <svc>, <svc>.i1, <svc>.i2 with the OpenEdge env, cwd and argv[0]", async () => {
  const wd = makeWorkDir([
    { name: "rep", pkg: "sleeper", replica: 3 },
    { name: "named", pkg: SLEEP_BINARY_PACKAGE, args: ["3600"] },
  ]);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const instances = await api.instancesUntil("rep", "3 running replicas", (i) => running(i, 3));
  expect(instances.map((i) => i.name)).toEqual(["rep", "rep.i1", "rep.i2"]);
  const pids = instances.map((i) => i.pid);
  expect(new Set(pids).size).toBe(3);

  for (const inst of instances) {
    const pid = inst.pid as number;
    await until(
      `${inst.name}'s log`,
      () => instanceLog(wd, "rep", inst.name),
      (log) => log.includes(`instance=${inst.name} service=rep\n`),
    );
    const env = environ(pid) ?? {};
    expect(env.OPENEDGE_SERVICE_NAME).toBe("rep");
    expect(env.OPENEDGE_SERVICE_INSTANCE_NAME).toBe(inst.name);
    expect(env.OPENEDGE_MASTER_API).toBe("unix://var/run/openedge.sock");
    expect(env.OPENEDGE_MASTER_API_VERSION).toBe("v1");
    expect(env.OPENEDGE_RUNNING_MODE).toBe("native");
    expect(env.OPENEDGE_SERVICE_TOKEN?.length ?? 0).toBeGreaterThan(16);
    expect(env.OPENEDGE_HOST_ID ?? "").not.toBe("");
    expect(env.OPENEDGE_HOST_OS ?? "").not.toBe("");
    const dir = join(wd, "var/run/openedge/services/rep", inst.name);
    expect(readlinkSync(`/proc/${pid}/cwd`)).toBe(dir);
    expect(readlinkSync(join(dir, "var/run/openedge.sock"))).toBe(join(wd, "var/run/openedge.sock"));
    expect(readlinkSync(join(dir, "lib/openedge/sleeper"))).toBe(join(wd, "var/db/openedge/pkgs/sleeper"));
  }
  // the CLI shows the same instances
  const ps = await run(["ps", "-w", wd]);
  expect(ps.code).toBe(0);
  for (const inst of instances) {
    expect(ps.stdout).toMatch(
      new RegExp(`^rep +${inst.name.replace(".", "\\.")} +running +0 +${inst.pid} `, "m"),
    );
  }
  const psJson = JSON.parse((await run(["ps", "-w", wd, "--json"])).stdout) as {
    name: string;
    instances: { pid: number }[];
  }[];
  expect(psJson.find((s) => s.name === "rep")?.instances.map((i) => i.pid)).toEqual(pids as number[]);

  const tokens = new Set(pids.map((pid) => environ(pid as number)?.OPENEDGE_SERVICE_TOKEN));
  expect(tokens.size).toBe(1); // one token per service, shared by its instances

  const [named] = await api.instancesUntil("named", "the named instance", (i) => running(i, 1));
  // the pid is a launcher shell (joining the cgroup) until it execs the entry with argv[0] renamed
  const argv = await until(
    "the entry's argv",
    () => cmdline(named?.pid as number),
    (a) => a?.[1] === "3600",
  );
  expect(argv).toEqual(["named", "3600"]);

  await stopCleanly(master, wd);
  expect(existsSync(join(wd, "var/run/openedge/services/rep/rep"))).toBe(false);
  for (const pid of pids) expect(alive(pid as number)).toBe(false);
});

test("an instance killed with SIGKILL comes back after its backoff with a new pid and restarts 1", async () => {
  const wd = makeWorkDir([
    { name: "victim", pkg: "sleeper", restart: { policy: "always", backoff: { min: "500ms", max: "1s" } } },
  ]);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const [before] = await api.instancesUntil("victim", "victim running", (i) => running(i, 1));
  const oldPid = before?.pid as number;
  await until(
    "the first start in the log",
    () => instanceLog(wd, "victim", "victim"),
    (log) => log !== "",
  );
  const killedAt = Date.now();
  process.kill(oldPid, "SIGKILL");

  const [after] = await api.instancesUntil(
    "victim",
    "victim restarted",
    (i) => running(i, 1) && i[0]?.pid !== oldPid,
  );
  expect(after?.restarts).toBe(1);
  expect(after?.exit).toMatchObject({ code: null, signal: "SIGKILL" });
  expect(alive(oldPid)).toBe(false);
  // backoff min 500ms with ±10% jitter
  expect(Date.parse(after?.start_time ?? "") - killedAt).toBeGreaterThanOrEqual(440);
  await until(
    "two starts in the log",
    () => instanceLog(wd, "victim", "victim"),
    (log) => log.split("instance=victim").length - 1 === 2,
  );
  await stopCleanly(master, wd);
});

test("restart policies: on-failure, always and no on zero and non-zero exits; retry.max 2 gives up after 3 starts", async () => {
  const wd = makeWorkDir([
    { name: "onfail-err", pkg: "exiter", args: ["3"], restart: { policy: "on-failure" } },
    { name: "onfail-ok", pkg: "exiter", args: ["0"], restart: { policy: "on-failure" } },
    { name: "always-err", pkg: "exiter", args: ["3"], restart: { policy: "always" } },
    { name: "always-ok", pkg: "exiter", args: ["0"], restart: { policy: "always" } },
    { name: "no-err", pkg: "exiter", args: ["3"], restart: { policy: "no" } },
    { name: "no-ok", pkg: "exiter", args: ["0"], restart: { policy: "no" } },
    { name: "retry", pkg: "exiter", args: ["4"], restart: { policy: "always", retry: { max: 2 } } },
  ]);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const all = () => api.inspect().then((doc) => new Map(doc.services.map((s) => [s.name, s.instances[0]])));
  const settled = await until(
    "every policy to show",
    all,
    (m) =>
      ["onfail-err", "always-err", "always-ok"].every((s) => (m.get(s)?.restarts ?? 0) >= 2) &&
      ["onfail-ok", "no-err", "no-ok"].every((s) => m.get(s)?.status === "exited") &&
      m.get("retry")?.status === "failed",
  );
  for (const name of ["onfail-ok", "no-ok"]) {
    expect(settled.get(name)).toMatchObject({
      status: "exited",
      restarts: 0,
      exit: { code: 0, signal: null },
    });
  }
  expect(settled.get("no-err")).toMatchObject({ status: "exited", restarts: 0, exit: { code: 3 } });
  expect(settled.get("retry")).toMatchObject({ status: "failed", restarts: 2, exit: { code: 4 } });
  expect(instanceLog(wd, "retry", "retry")).toBe("start code=4\n".repeat(3));
  // backoff from application.yml: min 100ms, doubling (±10% jitter)
  const delays = master.lines
    .filter((l) => l.msg === "instance_restart_scheduled" && l.service === "always-err")
    .map((l) => l.delay_ms as number);
  expect(delays[0]).toBeGreaterThanOrEqual(90);
  expect(delays[0]).toBeLessThanOrEqual(110);
  expect(delays[1]).toBeGreaterThanOrEqual(180);
  expect(delays[1]).toBeLessThanOrEqual(220);
  expect(instanceLog(wd, "no-err", "no-err")).toBe("start code=3\n");
  expect(instanceLog(wd, "onfail-ok", "onfail-ok")).toBe("start code=0\n");

  // settled ones stay settled: an always-restarting neighbour has cycled again meanwhile
  const mark = settled.get("always-ok")?.restarts ?? 0;
  const later = await until(
    "always-ok to restart again",
    all,
    (m) => (m.get("always-ok")?.restarts ?? 0) > mark,
  );
  for (const name of ["onfail-ok", "no-err", "no-ok"]) expect(later.get(name)?.restarts).toBe(0);
  expect(later.get("retry")).toMatchObject({ status: "failed", restarts: 2 });
  await stopCleanly(master, wd);
});

test("children, a setsid'd shell and a double-forked daemon die with their instance: on a crash and at `openedge stop`", async () => {
  const wd = makeWorkDir([{ name: "spawner", pkg: "spawner" }]);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const treeOf = () =>
    pidsWithEnv("OPENEDGE_SERVICE_INSTANCE_NAME", "spawner").filter((p) => environ(p)?.[MARKER] === wd);

  const firstLog = await until(
    "the daemon to report",
    () => instanceLog(wd, "spawner", "spawner"),
    (log) => /daemon=\d+/.test(log) && log.includes("spawned"),
  );
  const daemon = Number(/daemon=(\d+)/.exec(firstLog)?.[1]);
  // sh, 2 sleeps, setsid sh + its sleep, the python daemon
  const firstTree = await until("the whole tree", treeOf, (pids) => pids.length >= 6);
  expect(firstTree).toContain(daemon);
  expect(stat(daemon)?.ppid).toBe(master.proc.pid); // adopted by the master, a child subreaper
  const [leader] = (await api.service("spawner")).instances;
  expect(leader?.processes).toBeGreaterThanOrEqual(6);

  // the leader crashes: what it left is killed before the restart
  process.kill(leader?.pid as number, "SIGKILL");
  await api.instancesUntil("spawner", "the restart", (i) => running(i, 1) && i[0]?.restarts === 1);
  await until(
    "the second tree",
    () => instanceLog(wd, "spawner", "spawner"),
    (log) => log.split("daemon=").length === 3,
  );
  for (const pid of firstTree) expect(alive(pid)).toBe(false);
  const secondTree = await until("the second tree", treeOf, (pids) => pids.length >= 6);

  // each run had a cgroup of its own (where the host has them); the crashed run's is gone
  const cgroups = master.lines.filter((l) => l.msg === "instance_spawned" && typeof l.cgroup === "string");
  expect(cgroups.map((l) => existsSync(l.cgroup as string))).toEqual(
    cgroups.length === 2 ? [false, true] : [],
  );

  const stop = await run(["stop", "-w", wd]);
  expect(stop.code).toBe(0);
  expect(await master.exited).toBe(0);
  expect(secondTree.filter(alive)).toEqual([]);
  for (const line of cgroups) expect(existsSync(line.cgroup as string)).toBe(false);
  expect(markedPids(wd)).toEqual([]);
});

test("a memory limit is enforced through cgroups (OOM kill and restart), or reported as not enforced", async () => {
  const memory = { memory: { limit: "32m" } };
  const wd = makeWorkDir([
    { name: "capped", pkg: "sleeper", resources: memory },
    { name: "hog", pkg: "hog", resources: memory },
  ]);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const [capped] = await api.instancesUntil("capped", "capped running", (i) => running(i, 1));
  const limits = capped?.limits;
  expect(limits).toBeDefined();
  if (limits?.enforced) {
    expect(limits.via).toMatch(/^cgroup-v[12]$/);
    expect(limits.applied.memoryBytes).toBe(32 * 1024 * 1024);
    expect(capped?.mem_limit_bytes).toBe(32 * 1024 * 1024);
    const [hog] = await api.instancesUntil("hog", "the hog to be killed and restarted", (i) => {
      const h = i[0];
      return h !== undefined && h.restarts >= 1 && h.exit !== undefined;
    });
    expect(hog?.exit).toMatchObject({ code: null, signal: "SIGKILL", oom_killed: true });
    expect(instanceLog(wd, "hog", "hog")).not.toContain("allocated");
  } else {
    expect(limits?.via).toBe("none");
    expect(limits?.reason ?? "").not.toBe("");
    expect(limits?.skipped.map((s) => s.limit)).toContain("memory.limit");
    await until(
      "the hog to allocate",
      () => instanceLog(wd, "hog", "hog"),
      (log) => log.includes("allocated"),
    );
  }
  await stopCleanly(master, wd);
});

test("an instance that ignores SIGTERM is killed with SIGKILL after the grace period, children included", async () => {
  const wd = makeWorkDir([{ name: "slow", pkg: "stubborn" }], { grace: "1s" });
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  await api.instancesUntil("slow", "slow running", (i) => running(i, 1));
  await until(
    "slow to be ready",
    () => instanceLog(wd, "slow", "slow"),
    (log) => log === "ready\n",
  );
  const tree = await until(
    "its children",
    () => pidsWithEnv("OPENEDGE_SERVICE_INSTANCE_NAME", "slow").filter((p) => environ(p)?.[MARKER] === wd),
    (pids) => pids.length >= 3,
  );
  const stoppingAt = performance.now();
  await stopCleanly(master, wd);
  const took = performance.now() - stoppingAt;
  expect(took).toBeGreaterThanOrEqual(950);
  expect(took).toBeLessThan(4000);
  expect(master.lines.some((l) => l.msg === "instance_kill" && l.instance === "slow")).toBe(true);
  expect(tree.filter(alive)).toEqual([]);
  expect(markedPids(wd)).toEqual([]);
});

test("a service whose package is missing is reported failed at start; the others run", async () => {
  const wd = makeWorkDir([
    { name: "ghost", pkg: "no-such-package" },
    { name: "fine", pkg: "sleeper" },
  ]);
  const master = await startReady(wd);
  expect((await master.waitFor("master_ready")).failed).toEqual(["ghost"]);
  const api = new MasterApi(wd);
  const ghost = await api.service("ghost");
  expect(ghost.status).toBe("failed");
  expect(ghost.error).toContain("package.yml");
  expect(ghost.instances).toEqual([]);
  await api.instancesUntil("fine", "fine running", (i) => running(i, 1));
  await stopCleanly(master, wd);
});
