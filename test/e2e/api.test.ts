// The master API over its unix socket, as operators, services and broken clients meet it: both header
// spellings, per-service tokens, JSON errors with fitting statuses, an OpenEdge-style python3 module
// that starts, reports on and stops instances itself, dynamic instances (crash, replacement, concurrent
// starts), instance logs (tail, follow) and Prometheus metrics.

import { afterAll, expect, test } from "bun:test";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, run } from "./harness.ts";
import { ADMIN, type Answer, authHeaders, MasterApi, running, until } from "./master-api.ts";
import { alive, environ } from "./procs.ts";
import { instanceLog, makeWorkDir, startReady, stopCleanly } from "./workdir.ts";

afterAll(cleanupAll);

function expectError(answer: Answer, status: number, code: string, text?: string): void {
  expect({ status: answer.status, type: answer.headers.get("content-type") }).toEqual({
    status,
    type: "application/json",
  });
  const body = answer.json as { error?: unknown; code?: unknown };
  expect(body.code).toBe(code);
  expect(typeof body.error).toBe("string");
  if (text !== undefined) expect(body.error).toContain(text);
}

test("auth: both header spellings, wrong or foreign tokens get 401, a service's own token works", async () => {
  const wd = makeWorkDir([
    { name: "svc", pkg: "sleeper" },
    { name: "peer", pkg: "sleeper" },
  ]);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const [svc] = await api.instancesUntil("svc", "svc running", (i) => running(i, 1));
  await api.instancesUntil("peer", "peer running", (i) => running(i, 1));
  const admin = api.adminToken();
  expect(statSync(api.socket).mode & 0o777).toBe(0o600);
  expect(statSync(join(wd, "var/run/openedge/admin.token")).mode & 0o777).toBe(0o600);
  const serviceToken = environ(svc?.pid as number)?.OPENEDGE_SERVICE_TOKEN ?? "";
  expect(serviceToken).not.toBe("");

  const inspect = (headers: Record<string, string>) => api.call("GET", "/v1/system/inspect", { headers });
  expect((await inspect(authHeaders(ADMIN, admin))).status).toBe(200);
  expect((await inspect(authHeaders(ADMIN, admin, true))).status).toBe(200);
  expect((await inspect(authHeaders("svc", serviceToken))).status).toBe(200);
  expect((await inspect(authHeaders("svc", serviceToken, true))).status).toBe(200);

  const refused = [
    authHeaders(ADMIN, `${admin}x`),
    authHeaders(ADMIN, admin.slice(0, -1)),
    authHeaders(ADMIN, "", true),
    authHeaders("peer", serviceToken), // another service's token
    authHeaders(ADMIN, serviceToken),
    authHeaders("svc", admin),
    authHeaders("nobody", admin),
    { "x-openedge-username": ADMIN }, // no password
    {},
  ];
  for (const headers of refused) {
    const answer = await inspect(headers);
    expectError(answer, 401, "ERR_UNAUTHORIZED");
    expect(answer.json).toEqual({ error: "account unauthorized", code: "ERR_UNAUTHORIZED" });
  }
  // credentials are checked before the body is read
  const unauthorizedBadBody = await api.call("PUT", "/v1/system/update", {
    headers: authHeaders(ADMIN, "wrong"),
    body: "{",
  });
  expectError(unauthorizedBadBody, 401, "ERR_UNAUTHORIZED");
  expect((await api.call("GET", "/metrics", { headers: {} })).status).toBe(401);
  await stopCleanly(master, wd);
});

test("bad requests get JSON errors (400, 404, 405) and the master keeps serving", async () => {
  const wd = makeWorkDir([{ name: "svc", pkg: "sleeper" }]);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const [before] = await api.instancesUntil("svc", "svc running", (i) => running(i, 1));
  const put = (path: string, body?: unknown) => api.call("PUT", path, body === undefined ? {} : { body });

  // 400: malformed or wrongly shaped bodies and parameters
  expectError(await put("/v1/system/update", "{not json"), 400, "ERR_BAD_REQUEST", "not valid JSON");
  expectError(await put("/v1/system/update", "[1, 2]"), 400, "ERR_BAD_REQUEST", "JSON object");
  expectError(await put("/v1/system/update", ""), 400, "ERR_BAD_REQUEST", "empty");
  expectError(await put("/v1/system/update", { path: "" }), 400, "ERR_BAD_REQUEST", "body.path");
  expectError(
    await put("/v1/system/update", { type: "OS", path: "x.yml" }),
    400,
    "ERR_BAD_REQUEST",
    "body.type",
  );
  expectError(
    await put("/v1/system/update", { path: "x.yml", trace: 7 }),
    400,
    "ERR_BAD_REQUEST",
    "body.trace",
  );
  expectError(
    await put("/v1/services/svc/instances/svc/report", "{"),
    400,
    "ERR_BAD_REQUEST",
    "not valid JSON",
  );
  expectError(await put("/v1/services/svc/instances/svc/report", "null"), 400, "ERR_BAD_REQUEST");
  expectError(
    await put("/v1/services/svc/instances/x/start", { A: { nested: 1 } }),
    400,
    "ERR_BAD_REQUEST",
    "body.A",
  );
  expectError(
    await put("/v1/services/svc/instances/..%2Fx/start", {}),
    400,
    "ERR_BAD_REQUEST",
    "instance name",
  );
  expectError(await api.call("GET", "/v1/services/svc/logs?tail=-1"), 400, "ERR_BAD_REQUEST", "tail");

  // 404: unknown services, instances and routes
  expectError(
    await put("/v1/services/nosuch/instances/x/start", {}),
    404,
    "ERR_NOT_FOUND",
    'service "nosuch"',
  );
  expectError(await put("/v1/services/nosuch/instances/x/stop"), 404, "ERR_NOT_FOUND", 'service "nosuch"');
  expectError(await put("/v1/services/nosuch/instances/x/report", { a: 1 }), 404, "ERR_NOT_FOUND", "nosuch");
  expectError(await put("/v1/services/svc/instances/nosuch/stop"), 404, "ERR_NOT_FOUND", 'instance "nosuch"');
  expectError(await api.call("GET", "/v1/services/nosuch/logs"), 404, "ERR_NOT_FOUND", "nosuch");
  expectError(await api.call("GET", "/v1/no/such/route"), 404, "ERR_NOT_FOUND");
  // regression: a service name with "../" read any *.log file the master could read
  writeFileSync(join(wd, "var/db/openedge/secret.log"), "not for the API\n");
  for (const name of ["..%2F..%2Fdb%2Fopenedge", "svc%2F..%2F..%2F..%2Fdb%2Fopenedge", "..%2F"]) {
    const traversal = await api.call("GET", `/v1/services/${name}/logs`);
    expect(traversal.text).not.toContain("not for the API");
    expect(traversal.text).not.toContain("instance=svc");
    expectError(traversal, 404, "ERR_NOT_FOUND");
  }

  // 405: a known path with the wrong method names the right one
  for (const [method, path, allow] of [
    ["DELETE", "/v1/system/inspect", "GET"],
    ["POST", "/v1/system/update", "PUT"],
    ["GET", "/v1/services/svc/instances/svc/start", "PUT"],
    ["POST", "/metrics", undefined],
  ] as const) {
    const answer = await api.call(method, path, method === "GET" ? {} : { body: "{}" });
    expectError(answer, 405, "ERR_BAD_REQUEST");
    if (allow !== undefined) expect(answer.headers.get("allow")).toBe(allow);
  }

  // still serving, on the legacy paths too, and nothing was restarted
  expect((await api.call("GET", "/system/inspect")).status).toBe(200);
  const port = await api.call("GET", "/ports/available");
  expect(port.status).toBe(200);
  expect(Number((port.json as { port: string }).port)).toBeGreaterThan(0);
  const [after] = (await api.service("svc")).instances;
  expect(after).toMatchObject({ status: "running", pid: before?.pid, restarts: 0 });
  await stopCleanly(master, wd);
});

interface ModuleStep {
  step: string;
  status?: number;
  port?: string;
  address?: string;
  seen?: boolean;
}

test("an OpenEdge-style python3 module starts a dynamic instance with an address, reports stats and stops it", async () => {
  const wd = makeWorkDir([
    { name: "worker", pkg: "sleeper", replica: 0 },
    { name: "module", pkg: "module", args: ["worker"] },
  ]);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const log = await until(
    "the module to finish",
    () => instanceLog(wd, "module", "module"),
    (text) => text.includes('"step": "done"') || text.includes("Traceback"),
  );
  const steps = new Map(
    log
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as ModuleStep)
      .map((s) => [s.step, s] as const),
  );
  expect(log).not.toContain("Traceback");
  const port = Number(steps.get("port")?.port);
  expect(steps.get("port")?.status).toBe(200);
  expect(port).toBeGreaterThan(0);
  expect(port).toBeLessThan(65536);
  const address = `tcp://127.0.0.1:${port}`;
  expect(steps.get("start")).toMatchObject({ status: 200, address });
  expect(steps.get("seen")?.seen).toBe(true);
  expect(steps.get("report")?.status).toBe(200);
  expect(steps.get("report2")?.status).toBe(200);
  expect(steps.get("stop")?.status).toBe(200);

  // the dynamic instance saw the address, and its identity was not forgeable by the start body
  const dynLog = instanceLog(wd, "worker", "worker-dyn");
  expect(dynLog).toContain("instance=worker-dyn service=worker\n");
  expect(dynLog).toContain(`address=${address}\n`);

  const doc = await api.inspect();
  const worker = doc.services.find((s) => s.name === "worker");
  expect(worker?.instances.filter((i) => i.status !== "stopped")).toEqual([]);
  const [module] = doc.services.find((s) => s.name === "module")?.instances ?? [];
  expect(module).toMatchObject({ name: "module", status: "running", stats: { msgs: 5 }, ready: true });
  await stopCleanly(master, wd);
});

test("logs?tail=N returns the last N lines (per instance, labelled when several); /metrics counts restarts", async () => {
  const wd = makeWorkDir([
    { name: "lines", pkg: "sleeper", args: ["line 1", "line 2", "line 3", "line 4"] },
    { name: "rep", pkg: "sleeper", replica: 2, args: ["last"] },
    { name: "ticker", pkg: "exiter", restart: { policy: "always", backoff: { min: "100ms", max: "200ms" } } },
  ]);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const [lines] = await api.instancesUntil("lines", "lines running", (i) => running(i, 1));
  await api.instancesUntil("rep", "rep running", (i) => running(i, 2));
  await until(
    "the lines",
    () => instanceLog(wd, "lines", "lines"),
    (t) => t.endsWith("line 4\n"),
  );
  await until(
    "rep.i1's output",
    () => instanceLog(wd, "rep", "rep.i1"),
    (t) => t.endsWith("last\n"),
  );
  await until(
    "rep's output",
    () => instanceLog(wd, "rep", "rep"),
    (t) => t.endsWith("last\n"),
  );

  const tail2 = await api.call("GET", "/v1/services/lines/logs?tail=2");
  expect(tail2.status).toBe(200);
  expect(tail2.headers.get("content-type")).toContain("text/plain");
  expect(tail2.text).toBe("line 3\nline 4\n");
  expect((await api.call("GET", "/services/lines/logs?tail=1")).text).toBe("line 4\n");
  expect((await api.call("GET", "/v1/services/lines/logs?tail=0")).text).toBe("");
  expect((await api.call("GET", "/v1/services/lines/logs")).text).toBe(
    "instance=lines service=lines\nline 1\nline 2\nline 3\nline 4\n",
  );
  expect((await api.call("GET", "/v1/services/rep/logs?tail=1")).text).toBe("rep | last\nrep.i1 | last\n");
  expect((await api.call("GET", "/v1/services/rep/logs?tail=1&instance=rep.i1")).text).toBe("last\n");
  const cli = await run(["logs", "lines", "-n", "2", "-w", wd]);
  expect(cli).toEqual({ code: 0, stdout: "line 3\nline 4\n", stderr: "" });

  // follow: what the restarting ticker appends arrives on the open stream
  const followed = await api.readStream(
    "/v1/services/ticker/logs?follow=1&tail=0",
    (text) => text.split("start code=0\n").length >= 3,
  );
  expect(followed).toMatch(/^(start code=0\n)+$/);

  const metrics = async () => (await api.call("GET", "/metrics")).text;
  const first = await metrics();
  expect(first).toContain("# TYPE openedge_instance_restarts_total counter\n");
  expect(first).toContain('openedge_instance_restarts_total{service="lines",instance="lines"} 0\n');
  expect(first).toContain('openedge_instance_restarts_total{service="rep",instance="rep.i1"} 0\n');
  expect(first).toContain('openedge_instance_status{service="lines",instance="lines",status="running"} 1\n');
  expect(first).toMatch(/^openedge_up 1$/m);

  process.kill(lines?.pid as number, "SIGKILL");
  const after = await until("the restart to be counted", metrics, (text) =>
    text.includes('openedge_instance_restarts_total{service="lines",instance="lines"} 1\n'),
  );
  expect(after).toContain('openedge_instance_restarts_total{service="rep",instance="rep"} 0\n');
  expect(alive(lines?.pid as number)).toBe(false);
  await stopCleanly(master, wd);
});

test("a dynamic instance keeps its start env across a crash, a second start replaces it, and it ends with the master", async () => {
  const wd = makeWorkDir([{ name: "worker", pkg: "sleeper", replica: 0 }]);
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const start = (address: string) =>
    api.call("PUT", "/v1/services/worker/instances/dyn/start", {
      body: { OPENEDGE_SERVICE_INSTANCE_ADDRESS: address },
    });
  expect((await start("tcp://first")).status).toBe(200);
  const [first] = await api.instancesUntil("worker", "dyn running", (i) => running(i, 1));
  expect(first?.name).toBe("dyn");
  await until(
    "dyn's output",
    () => instanceLog(wd, "worker", "dyn"),
    (log) => log.includes("address="),
  );
  process.kill(first?.pid as number, "SIGKILL");
  const [again] = await api.instancesUntil(
    "worker",
    "dyn restarted",
    (i) => running(i, 1) && i[0]?.restarts === 1,
  );
  expect(environ(again?.pid as number)?.OPENEDGE_SERVICE_INSTANCE_ADDRESS).toBe("tcp://first");

  expect((await start("tcp://second")).status).toBe(200);
  const [second] = await api.instancesUntil(
    "worker",
    "dyn replaced",
    (i) => running(i, 1) && i[0]?.restarts === 0,
  );
  expect(alive(again?.pid as number)).toBe(false);
  expect(environ(second?.pid as number)?.OPENEDGE_SERVICE_INSTANCE_ADDRESS).toBe("tcp://second");
  await stopCleanly(master, wd);
});

test("concurrent starts of one dynamic instance leave exactly one running process", async () => {
  // stubborn instances take the whole grace period to stop, so the five starts overlap
  const wd = makeWorkDir([{ name: "worker", pkg: "stubborn", replica: 0 }], { grace: "500ms" });
  const master = await startReady(wd);
  const api = new MasterApi(wd);
  const start = (n: number) =>
    api.call("PUT", "/v1/services/worker/instances/dyn/start", { body: { E2E_START: String(n) } });
  expect((await start(0)).status).toBe(200);
  const answers = await Promise.all([1, 2, 3, 4, 5].map(start));
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
  const [dyn] = await api.instancesUntil("worker", "one dyn", (i) => running(i, 1));
  expect(environ(dyn?.pid as number)?.E2E_START).toMatch(/^[1-5]$/);
  expect(dyn?.name).toBe("dyn");
  // the starts that lost the race must not leave instances the master no longer knows of
  await stopCleanly(master, wd);
});
