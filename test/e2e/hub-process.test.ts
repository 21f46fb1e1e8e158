// The openedge-hub built-in with `isolation: process`: the same hub application, run as a child process
// of the master (`openedge module openedge-hub` in the instance dir) that joins the beehive bus as a
// remote module, reports its figures, is restarted by the supervisor when killed, and is gone after stop.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, type RunningMaster } from "./harness.ts";
import { hubWorkDir, mosquitto, mosquittoSub, TEST_PRINCIPAL_YML } from "./hub-workdir.ts";
import { type InstanceView, MasterApi, running, until } from "./master-api.ts";
import { alive, cmdline, stat } from "./procs.ts";
import { instanceLog, markedPids, startReady, stopCleanly } from "./workdir.ts";

/** A port nobody listens on now (the hub binds it; a fixed port survives the hub's restarts). */
function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

let workDir: string;
let master: RunningMaster;
let api: MasterApi;
let port: number;
const AUTH = ["-u", "test", "-P", "hahaha"];
const TCP = () => ["-h", "127.0.0.1", "-p", String(port), ...AUTH];

beforeAll(async () => {
  port = freePort();
  workDir = hubWorkDir(
    `name: localhub
listen:
  - tcp://127.0.0.1:${port}
principals:
${TEST_PRINCIPAL_YML}metrics:
  report: {interval: 1s}
`,
    undefined,
    "    isolation: process\n    restart: {policy: always, backoff: {min: 100ms, max: 1s}}\n",
  );
  master = await startReady(workDir);
  api = new MasterApi(workDir);
});

afterAll(() => {
  cleanupAll();
});

const runningHub = (what: string, ok: (i: InstanceView) => boolean = () => true) =>
  api.instancesUntil("localhub", what, (list) => running(list, 1) && list.every(ok), 20_000);

/** mosquitto_pub until the hub takes a QoS 1 message (its listener comes up just after the process). */
async function publishWhenUp(topic: string, message: string): Promise<void> {
  await until(
    "the hub to accept a QoS 1 publish",
    () => mosquitto("mosquitto_pub", [...TCP(), "-t", topic, "-m", message, "-q", "1"]),
    (r) => r.code === 0,
    { timeoutMs: 15_000, intervalMs: 100 },
  );
}

async function roundTrip(topic: string, message: string): Promise<void> {
  await publishWhenUp("warmup", "x");
  const sub = mosquittoSub([...TCP(), "-t", topic, "-q", "1", "-v", "-C", "1", "-W", "10"]);
  await sub.subscribed;
  const pub = await mosquitto("mosquitto_pub", [...TCP(), "-t", topic, "-m", message, "-q", "1"]);
  expect(pub.code).toBe(0);
  expect((await sub.done).code).toBe(0);
  expect(sub.messages).toEqual([`${topic} ${message}`]);
}

describe("hub with isolation: process", () => {
  test("a child process `openedge module openedge-hub` runs it, named after the instance", async () => {
    const [inst] = await runningHub("the hub instance to run");
    const pid = inst?.pid as number;
    // the engine's shell execs the executable under the instance's name right after the fork
    const argv = await until(
      "the hub's argv[0] to be the instance name",
      () => cmdline(pid) ?? [],
      (a) => a[0] === inst?.name,
    );
    expect(argv.slice(1, 3)).toEqual(["module", "openedge-hub"]);
    expect(stat(pid)?.ppid).toBe(master.proc.pid);
    // no in-process hub: the master logged no builtin_started for it
    expect(master.lines.some((l) => l.msg === "builtin_started" && l.service === "localhub")).toBe(false);
  });

  test("mosquitto_pub → mosquitto_sub through the child; the store is in the mounted data volume", async () => {
    await roundTrip("p/hello", "from-child");
    expect(existsSync(join(workDir, "var/db/openedge/localhub-data/hub.db"))).toBe(true);
  });

  test("inspect: the instance runs with the hub's figures; the bus lists the remote module", async () => {
    const service = await api.service("localhub");
    expect((service as unknown as { placement?: string }).placement).toBe("engine");
    const [inst] = await runningHub("the hub's reported figures", (i) => Number(i.messagesReceived) > 0);
    expect(typeof inst?.clients).toBe("number");
    const bus = await until(
      "the bus to list localhub",
      async () =>
        ((await api.inspect()) as unknown as { bus?: { modules: { name: string; connected: boolean }[] } })
          .bus,
      (b) => b?.modules.some((m) => m.name === "localhub" && m.connected) === true,
    );
    expect(bus?.modules.find((m) => m.name === "localhub")?.connected).toBe(true);
    const metrics = await api.call("GET", "/metrics");
    expect(metrics.text).toContain('openedge_bus_connected{module="localhub"} 1');
    expect(metrics.text).toMatch(/openedge_hub_messages_received_total\{service="localhub"[^}]*\} [1-9]/);
  });

  test("kill -9 of the hub child: the supervisor restarts it and clients work again", async () => {
    const [before] = await runningHub("the hub instance to run");
    const pid = before?.pid as number;
    process.kill(pid, "SIGKILL");
    const [after] = await runningHub(
      "a restarted hub instance",
      (i) => i.pid !== pid && i.restarts > (before?.restarts ?? 0),
    );
    expect(alive(pid)).toBe(false);
    expect(stat(after?.pid as number)?.ppid).toBe(master.proc.pid);
    await roundTrip("p/again", "after-restart");
  });

  test("master stop: exit 0, the hub child is gone, no process left", async () => {
    const [inst] = await runningHub("the hub instance to run");
    await stopCleanly(master, workDir);
    expect(alive(inst?.pid as number)).toBe(false);
    // it closed on SIGTERM (graceful, within shutdown.timeout), it was not killed
    expect(instanceLog(workDir, "localhub", inst?.name as string)).toContain('"hub_stopped"');
    expect(markedPids(workDir)).toEqual([]);
  });
});
