import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenStore } from "../../../src/api/index.ts";
import { parseApplicationConfig, parseOpenEdgeConfig } from "../../../src/config/index.ts";
import { Supervisor } from "../../../src/engine/index.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";
import { silentLogger } from "../../../src/log/index.ts";
import { ApplicationRunner } from "../../../src/master/application-runner.ts";
import { OtaLog } from "../../../src/master/ota-log.ts";
import { workPaths } from "../../../src/master/paths.ts";
import { Updater } from "../../../src/master/updater.ts";
import { FakeEngine } from "../../fixtures/engine/fake-engine.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const service = (name: string, extra = "") =>
  `  - name: ${name}\n    image: ${name}-pkg\n    restart: {policy: always, backoff: {min: 1s}}\n${extra}`;

function setup(initial: string) {
  const root = mkdtempSync(join(tmpdir(), "oe-upd-"));
  dirs.push(root);
  const paths = workPaths(root);
  const opts = { env: {}, workDir: root };
  const { config } = parseOpenEdgeConfig("", opts);
  const clock = new FakeClock(0);
  const engine = new FakeEngine(clock);
  const supervisor = new Supervisor({ engine, clock, log: silentLogger, random: () => 0.5 });
  const runner = new ApplicationRunner({
    supervisor,
    tokens: new TokenStore(),
    catalog: {},
    config,
    host: { os: "linux", id: "test" },
    log: silentLogger,
  });
  const ota = new OtaLog(config.otalog, () => clock.now());
  const updater = new Updater({
    runner,
    supervisor,
    paths,
    ota,
    env: {},
    log: silentLogger,
    healthyMs: 500,
    healthTimeoutMs: 5000,
  });
  const app = parseApplicationConfig(initial, opts).app;
  mkdirSync(paths.dbDir, { recursive: true });
  writeFileSync(paths.applicationFile, initial);
  runner.setApplication(app);
  const write = (name: string, text: string) => {
    const file = join(root, name);
    writeFileSync(file, text);
    return file;
  };
  /** Runs an update while moving the fake clock until it settles. */
  async function update(file: string, trace = "t1") {
    let settled = false;
    const result = updater.update({ type: "APP", path: file, trace }).then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    void result.then(() => {
      settled = true;
    });
    for (let i = 0; i < 200 && !settled; i++) await clock.advance(100);
    return result;
  }
  const otaSteps = () =>
    readFileSync(config.otalog.file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: string; trace?: string });
  return {
    root,
    paths,
    clock,
    engine,
    supervisor,
    runner,
    updater,
    write,
    update,
    otaSteps,
    start: () => runner.startServices(app.services),
  };
}

const pids = (engine: FakeEngine, instance: string) =>
  engine.started.filter((i) => i.instance === instance).map((i) => i.pid);

describe("application update", () => {
  test("only the changed service restarts; unchanged ones keep their instance", async () => {
    const before = `services:\n${service("a")}${service("b")}`;
    const s = setup(before);
    await s.start();
    const file = s.write(
      "new.yml",
      `services:\n${service("a")}${service("b", "    env: {X: '1'}\n")}${service("c")}`,
    );
    const r = await s.update(file);
    expect(r.ok).toBe(true);
    expect(pids(s.engine, "a")).toHaveLength(1);
    expect(pids(s.engine, "b")).toHaveLength(2);
    expect(pids(s.engine, "c")).toHaveLength(1);
    expect(s.supervisor.serviceNames().sort()).toEqual(["a", "b", "c"]);
    expect(s.otaSteps().map((e) => e.step)).toEqual(["UPDATING", "UPDATED"]);
    expect(readFileSync(s.paths.applicationFile, "utf8")).toContain("name: c");
    expect(readFileSync(s.paths.applicationOldFile, "utf8")).toBe(before);
    expect(s.updater.error).toBeNull();
  });

  test("a removed service is stopped", async () => {
    const s = setup(`services:\n${service("a")}${service("b")}`);
    await s.start();
    const r = await s.update(s.write("new.yml", `services:\n${service("a")}`));
    expect(r.ok).toBe(true);
    expect(s.engine.latest("b").alive).toBe(false);
    expect(s.supervisor.serviceNames()).toEqual(["a"]);
  });

  test("an invalid application is refused before anything stops", async () => {
    const s = setup(`services:\n${service("a")}`);
    await s.start();
    const r = await s.update(s.write("bad.yml", "services:\n  - name: a\n    replica: many\n"));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(isOpenEdgeError(r.error, "ERR_CONFIG")).toBe(true);
      expect((r.error as Error).message).toContain("services[0].replica: must be an integer >= 0");
    }
    expect(s.engine.latest("a").alive).toBe(true);
    expect(pids(s.engine, "a")).toHaveLength(1);
    expect(s.otaSteps().map((e) => e.step)).toEqual(["UPDATING", "FAILURE"]);
    expect(s.updater.error).toContain("services[0].replica");
  });

  test("a new service that keeps failing is rolled back and the old services run again", async () => {
    const before = `services:\n${service("a")}${service("b")}`;
    const s = setup(before);
    await s.start();
    s.engine.failStarts(1000);
    const r = await s.update(
      s.write("new.yml", `services:\n${service("a")}${service("b", "    args: [changed]\n")}`),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect((r.error as Error).message).toStartWith("update failed and was rolled back:");
    s.engine.failStarts(0);
    expect(s.otaSteps().map((e) => e.step)).toEqual(["UPDATING", "ROLLINGBACK", "ROLLEDBACK"]);
    expect(readFileSync(s.paths.applicationFile, "utf8")).toBe(before);
    expect(existsSync(s.paths.applicationOldFile)).toBe(false);
    expect(s.engine.latest("a").alive).toBe(true);
    expect(pids(s.engine, "a")).toHaveLength(1);
    expect(s.runner.application.services.map((x) => x.args)).toEqual([[], []]);
    expect(s.updater.error).toStartWith("update failed and was rolled back");
  });

  test("MST updates are refused with a clear error", async () => {
    const s = setup("services: []\n");
    const r = await s.updater.update({ type: "MST", path: "bin/openedge.new" }).catch((e: unknown) => e);
    expect((r as Error).message).toBe("master (MST) updates are not supported by this build");
  });

  test("updates are serialized: the second starts after the first is done", async () => {
    const s = setup(`services:\n${service("a")}`);
    await s.start();
    const order: string[] = [];
    const f1 = s.write("one.yml", `services:\n${service("a", "    args: [one]\n")}`);
    const f2 = s.write("two.yml", `services:\n${service("a", "    args: [two]\n")}`);
    const first = s.update(f1, "first").then(() => order.push("first"));
    const second = s.update(f2, "second").then(() => order.push("second"));
    await Promise.all([first, second]);
    expect(order).toEqual(["first", "second"]);
    expect(s.otaSteps().map((e) => `${e.step}:${e.trace}`)).toEqual([
      "UPDATING:first",
      "UPDATED:first",
      "UPDATING:second",
      "UPDATED:second",
    ]);
    expect(s.runner.application.services[0]?.args).toEqual(["two"]);
  });

  test("a shutdown during the health wait interrupts the update: nothing restarts, the old file returns", async () => {
    const before = `services:\n${service("a")}`;
    const s = setup(before);
    await s.start();
    const pending = s.updater.update({
      type: "APP",
      path: s.write("new.yml", `services:\n${service("a", "    args: [x]\n")}`),
    });
    const outcome = pending.then(
      () => null,
      (e: unknown) => e as Error,
    );
    await s.clock.advance(100); // the new instance runs; the update waits for it to prove healthy
    const startsBefore = s.engine.started.length;
    await s.updater.shutdown();
    expect((await outcome)?.message).toBe("update interrupted by shutdown: the master is stopping");
    await s.runner.stopAll();
    expect(s.engine.started.length).toBe(startsBefore);
    expect(s.engine.started.every((i) => !i.alive)).toBe(true);
    expect(readFileSync(s.paths.applicationFile, "utf8")).toBe(before);
    expect(s.otaSteps().map((e) => e.step)).toEqual(["UPDATING", "ROLLINGBACK", "FAILURE"]);
    const refused = await s.updater
      .update({ type: "APP", path: s.write("late.yml", before) })
      .catch((e: unknown) => e);
    expect((refused as Error).message).toBe("the master is stopping: no update now");
  });
});
