// Application updates (OTA, type APP) on the compiled master: only changed services restart, the rest
// keep their processes; a new service that fails to come up rolls everything back to
// application.yml.old; an invalid application is refused before anything stops; ota.log tells the steps.

import { afterAll, expect, test } from "bun:test";
import { cpSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, run } from "./harness.ts";
import { authHeaders, type InspectView, MasterApi, running, until } from "./master-api.ts";
import { alive, cmdline, environ } from "./procs.ts";
import {
  applicationYaml,
  instanceLog,
  makeWorkDir,
  markedPids,
  readApplication,
  type ServiceDef,
  startReady,
  stopCleanly,
  writeApplicationAt,
} from "./workdir.ts";

afterAll(cleanupAll);

interface OtaEntry {
  step: string;
  type: string;
  trace?: string;
  message?: string;
  error?: string;
}

function otaLog(wd: string): OtaEntry[] {
  const path = join(wd, "var/db/openedge/ota.log");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as OtaEntry);
}

/** Pids of every instance, by "<service>/<instance>". */
function pidsOf(doc: InspectView): Map<string, number | undefined> {
  return new Map(
    doc.services.flatMap((s) => s.instances.map((i) => [`${s.name}/${i.name}`, i.pid] as const)),
  );
}

function allRunning(doc: InspectView, services: Record<string, number>): boolean {
  return Object.entries(services).every(([name, n]) => {
    const s = doc.services.find((x) => x.name === name);
    return s !== undefined && running(s.instances, n);
  });
}

async function runningApp(services: ServiceDef[], counts: Record<string, number>) {
  const wd = makeWorkDir(services);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const doc = await until(
    "the application to run",
    () => api.inspect(),
    (d) => allRunning(d, counts),
  );
  return { wd, master, api, before: pidsOf(doc) };
}

test("`openedge update` restarts changed services, starts added ones, stops removed ones and keeps the rest", async () => {
  const v1: ServiceDef[] = [
    { name: "keep", pkg: "sleeper", replica: 2 },
    { name: "change", pkg: "sleeper", env: { E2E_VERSION: "1" } },
    { name: "gone", pkg: "sleeper" },
  ];
  const { wd, master, api, before } = await runningApp(v1, { keep: 2, change: 1, gone: 1 });
  const v1Text = readApplication(wd);
  const v2Text = applicationYaml(
    [
      { name: "keep", pkg: "sleeper", replica: 2 },
      { name: "change", pkg: "sleeper", env: { E2E_VERSION: "2" } },
      { name: "added", pkg: "sleeper", args: ["hello"] },
    ],
    "v2",
  );
  const file = writeApplicationAt(wd, "next.yml", v2Text);
  const tokenOf = (pid: number | undefined) => environ(pid as number)?.OPENEDGE_SERVICE_TOKEN ?? "";
  const tokens = { keep: tokenOf(before.get("keep/keep")), change: tokenOf(before.get("change/change")) };
  const gone = tokenOf(before.get("gone/gone"));

  const result = await run(["update", file, "-w", wd, "--trace", "trace-ok"]);
  expect(result.stderr).toBe("");
  expect(result.stdout).toBe("updated (trace trace-ok)\n");
  expect(result.code).toBe(0);

  const doc = await api.inspect();
  expect(doc.error).toBe("");
  expect(doc.software.conf_version).toBe("v2");
  expect(doc.services.map((s) => s.name)).toEqual(["keep", "change", "added"]);
  expect(allRunning(doc, { keep: 2, change: 1, added: 1 })).toBe(true);
  const after = pidsOf(doc);
  expect(after.get("keep/keep")).toBe(before.get("keep/keep"));
  expect(after.get("keep/keep.i1")).toBe(before.get("keep/keep.i1"));
  expect(after.get("change/change")).not.toBe(before.get("change/change"));
  expect(alive(before.get("change/change") as number)).toBe(false);
  expect(alive(before.get("gone/gone") as number)).toBe(false);
  expect(environ(after.get("change/change") as number)?.E2E_VERSION).toBe("2");
  // a restarted service gets a new token, a removed one loses its own; the rest keep theirs
  const inspectAs = async (user: string, token: string) =>
    (await api.call("GET", "/v1/system/inspect", { headers: authHeaders(user, token) })).status;
  expect(await inspectAs("keep", tokens.keep)).toBe(200);
  expect(await inspectAs("change", tokens.change)).toBe(401);
  expect(await inspectAs("change", tokenOf(after.get("change/change")))).toBe(200);
  expect(await inspectAs("gone", gone)).toBe(401);

  expect(readApplication(wd)).toBe(v2Text);
  expect(readFileSync(join(wd, "var/db/openedge/application.yml.old"), "utf8")).toBe(v1Text);
  const ota = otaLog(wd);
  expect(ota.map((e) => e.step)).toEqual(["UPDATING", "UPDATED"]);
  expect(ota.every((e) => e.trace === "trace-ok" && e.type === "APP")).toBe(true);
  expect(ota[0]?.message).toBe(file);
  await stopCleanly(master, wd);
});

test("two updates at once run one after the other, never interleaved", async () => {
  const { wd, master, api } = await runningApp([{ name: "a", pkg: "sleeper" }], { a: 1 });
  // the second only removes (no health wait), so it would finish first were it not queued
  writeApplicationAt(wd, "b.yml", applicationYaml([], "vb"));
  const first = writeApplicationAt(
    wd,
    "a.yml",
    applicationYaml([{ name: "a", pkg: "sleeper", args: ["x"] }], "va"),
  );
  const answers = await Promise.all([
    api.call("PUT", "/v1/system/update", { body: { type: "APP", path: first, trace: "one" } }),
    api.call("PUT", "/v1/system/update", { body: { type: "APP", path: "b.yml", trace: "two" } }), // relative to the work dir
  ]);
  expect(answers.map((a) => a.status)).toEqual([200, 200]);
  expect(otaLog(wd).map((e) => `${e.step}:${e.trace}`)).toEqual([
    "UPDATING:one",
    "UPDATED:one",
    "UPDATING:two",
    "UPDATED:two",
  ]);
  const doc = await api.inspect();
  expect(doc.software.conf_version).toBe("vb");
  expect(doc.services).toEqual([]);
  await stopCleanly(master, wd);
});

test("an update whose new service fails is rolled back: old application file, old services, the error in inspect", async () => {
  const v1: ServiceDef[] = [
    { name: "svc", pkg: "sleeper", env: { E2E_VERSION: "1" } },
    { name: "other", pkg: "sleeper" },
  ];
  const { wd, master, api, before } = await runningApp(v1, { svc: 1, other: 1 });
  const v1Text = readApplication(wd);
  const file = writeApplicationAt(
    wd,
    "broken.yml",
    applicationYaml(
      [
        { name: "svc", pkg: "sleeper", env: { E2E_VERSION: "2" } },
        { name: "broken", pkg: "exiter", args: ["1"], restart: { policy: "no" } },
      ],
      "v2",
    ),
  );

  const answer = await api.call("PUT", "/v1/system/update", {
    body: { type: "APP", path: file, trace: "trace-bad" },
  });
  expect(answer.status).toBe(409);
  const body = answer.json as { error: string; code: string };
  expect(body.code).toBe("ERR_CONFLICT");
  expect(body.error).toContain("rolled back");
  expect(body.error).toContain('service "broken" instance "broken" exited with code 1');

  const ota = otaLog(wd);
  expect(ota.map((e) => e.step)).toEqual(["UPDATING", "ROLLINGBACK", "ROLLEDBACK"]);
  expect(ota.every((e) => e.trace === "trace-bad")).toBe(true);
  expect(ota[1]?.error).toContain('"broken"');
  expect(readApplication(wd)).toBe(v1Text);

  const doc = await api.inspect();
  expect(doc.software.conf_version).toBe("v1");
  expect(doc.services.map((s) => s.name)).toEqual(["svc", "other"]);
  expect(allRunning(doc, { svc: 1, other: 1 })).toBe(true);
  const after = pidsOf(doc);
  expect(environ(after.get("svc/svc") as number)?.E2E_VERSION).toBe("1");
  expect(after.get("svc/svc")).not.toBe(before.get("svc/svc")); // restarted twice: new, then old again
  expect(doc.error).toContain("rolled back");
  expect(doc.error).toContain('"broken"');
  await stopCleanly(master, wd);
});

test("an invalid application is refused with 400 before anything stops; `openedge update` fails with the reason", async () => {
  const { wd, master, api, before } = await runningApp([{ name: "svc", pkg: "sleeper", replica: 2 }], {
    svc: 2,
  });
  const v1Text = readApplication(wd);
  const invalid = writeApplicationAt(
    wd,
    "invalid.yml",
    [
      "version: v2",
      "services:",
      "  - name: svc",
      "    image: sleeper",
      "    replica: -1",
      "    mounts:",
      "      - name: nowhere",
      "        path: lib/openedge/sleeper",
      "",
    ].join("\n"),
  );

  const answer = await api.call("PUT", "/v1/system/update", {
    body: { type: "APP", path: invalid, trace: "t-inv" },
  });
  expect(answer.status).toBe(400);
  const body = answer.json as { error: string; code: string; issues?: unknown[] };
  expect(body.code).toBe("ERR_CONFIG");
  expect(body.error).toContain("replica");
  expect(body.error).toContain("nowhere");
  expect(Array.isArray(body.issues) && body.issues.length >= 2).toBe(true);

  const missing = await api.call("PUT", "/v1/system/update", { body: { path: join(wd, "no-such.yml") } });
  expect(missing.status).toBe(400);
  expect((missing.json as { error: string }).error).toContain("no-such.yml");

  const cli = await run(["update", invalid, "-w", wd]);
  expect(cli.code).toBe(1);
  expect(cli.stderr).toContain("replica");

  expect(otaLog(wd).map((e) => e.step)).toEqual([
    "UPDATING",
    "FAILURE",
    "UPDATING",
    "FAILURE",
    "UPDATING",
    "FAILURE",
  ]);
  expect(readApplication(wd)).toBe(v1Text);
  expect(existsSync(join(wd, "var/db/openedge/application.yml.old"))).toBe(false);
  const doc = await api.inspect();
  expect(pidsOf(doc)).toEqual(before);
  expect(allRunning(doc, { svc: 2 })).toBe(true);
  expect(doc.error).toContain("replica");
  await stopCleanly(master, wd);
});

test("SIGTERM during an update's health wait stops the master and leaves no process behind", async () => {
  const { wd, master, api } = await runningApp([{ name: "svc", pkg: "sleeper" }], { svc: 1 });
  // the master stops services in reverse order: svc first, then `slow`, which takes the whole grace period
  const file = writeApplicationAt(
    wd,
    "next.yml",
    applicationYaml([
      { name: "slow", pkg: "stubborn" },
      { name: "svc", pkg: "sleeper", args: ["v2"] },
    ]),
  );
  const update = api.call("PUT", "/v1/system/update", { body: { path: file, trace: "t-term" } });
  await api.instancesUntil("slow", "the update's new service to run", (i) => running(i, 1));
  await until(
    "slow to be ready",
    () => instanceLog(wd, "slow", "slow"),
    (log) => log === "ready\n",
  );
  expect(await master.stop()).toBe(0);
  await update.catch(() => undefined); // the connection may close before an answer
  expect(
    markedPids(wd).map((pid) => ({
      pid,
      cmdline: cmdline(pid),
      instance: environ(pid)?.OPENEDGE_SERVICE_INSTANCE_NAME,
    })),
  ).toEqual([]);
});

test("an update naming a package that is not there is rolled back at once, unchanged services untouched", async () => {
  const { wd, master, api, before } = await runningApp([{ name: "svc", pkg: "sleeper" }], { svc: 1 });
  const v1Text = readApplication(wd);
  const file = writeApplicationAt(
    wd,
    "nopkg.yml",
    applicationYaml([
      { name: "svc", pkg: "sleeper" },
      { name: "ghost", pkg: "no-such-package" },
    ]),
  );
  const startedAt = performance.now();
  const answer = await api.call("PUT", "/v1/system/update", { body: { path: file, trace: "t-nopkg" } });
  expect(performance.now() - startedAt).toBeLessThan(2500); // no health wait for a start that failed
  expect(answer.status).toBe(409);
  expect((answer.json as { error: string }).error).toContain("package.yml");
  expect(otaLog(wd).map((e) => e.step)).toEqual(["UPDATING", "ROLLINGBACK", "ROLLEDBACK"]);
  expect(readApplication(wd)).toBe(v1Text);
  const doc = await api.inspect();
  expect(doc.services.map((s) => s.name)).toEqual(["svc"]);
  expect(pidsOf(doc)).toEqual(before);
  await stopCleanly(master, wd);
});

test("re-applying the same application retries a service that failed: the fix (a package put in place) takes effect, the rest keeps running", async () => {
  const services: ServiceDef[] = [
    { name: "svc", pkg: "sleeper" },
    { name: "late", pkg: "late-pkg" },
  ];
  const wd = makeWorkDir(services);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const before = await until(
    "svc running, late failed for want of its package",
    () => api.inspect(),
    (doc) => allRunning(doc, { svc: 1 }) && doc.services.find((s) => s.name === "late")?.status === "failed",
  );
  // the operator puts the package in place and applies the same application again
  cpSync(join(wd, "var/db/openedge/pkgs/sleeper"), join(wd, "var/db/openedge/pkgs/late-pkg"), {
    recursive: true,
  });
  const same = writeApplicationAt(wd, "same.yml", applicationYaml(services));
  const answer = await api.call("PUT", "/v1/system/update", { body: { path: same, trace: "t-retry" } });
  expect(answer.status).toBe(200);
  const after = await until(
    "late running",
    () => api.inspect(),
    (doc) => allRunning(doc, { svc: 1, late: 1 }),
  );
  expect(pidsOf(after).get("svc/svc")).toBe(pidsOf(before).get("svc/svc")); // untouched
  expect(master.lines.find((l) => l.msg === "update_plan")).toMatchObject({
    retried: ["late"],
    unchanged: ["svc"],
  });
  await stopCleanly(master, wd);
});
