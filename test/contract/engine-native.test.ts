// Native-engine specifics on real processes: instance dir layout, argv[0], process-group and daemon
// cleanup (with and without cgroups), log capture with rotation, and crash recovery from the state file.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setChildSubreaper } from "../../native/libc.ts";
import { NoCgroups, StateFile, stateFilePath } from "../../src/engine/index.ts";
import { instanceMembers, signalInstance } from "../../src/engine/native/members.ts";
import { childrenOf, pidAlive, readStat } from "../../src/engine/native/procfs.ts";
import { isOpenEdgeError } from "../../src/lib/errors.ts";
import { type NativeHarness, nativeHarness, waitFor, waitForFile } from "../fixtures/engine/harness.ts";

const ENV = { OPENEDGE_SERVICE_NAME: "svc", OPENEDGE_SERVICE_INSTANCE_NAME: "svc" };

beforeAll(() => {
  // As the master does at start: orphans of service trees come to us, and we reap them.
  expect(setChildSubreaper()).toEqual({ ok: true });
});

/** Zombies parented to this process that are not in our own session (i.e. adopted ones). */
function adoptedZombies(): number[] {
  const selfSid = readStat(process.pid)?.sid;
  return childrenOf(process.pid).filter((pid) => {
    const st = readStat(pid);
    return st !== null && st.state === "Z" && st.sid !== selfSid;
  });
}

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
}

describe("native instance dir", () => {
  let h: NativeHarness;
  beforeAll(() => {
    h = nativeHarness();
  });
  afterAll(() => h.close());

  test("mounts and the API socket are symlinks in the instance dir, which is the cwd and goes at stop", async () => {
    const data = join(h.outDir, "..", "data");
    mkdirSync(data, { recursive: true });
    const script = [
      'printf "%s\\n" "$PWD" "$(readlink var/db/openedge/data)" "$(readlink var/run/openedge.sock)" > out/layout.tmp',
      "mv out/layout.tmp out/layout",
      "while :; do sleep 0.05; done",
    ].join("\n");
    const spec = h.spec("svc", script);
    spec.mounts.push({ hostPath: data, path: "var/db/openedge/data", readonly: false });
    const inst = await h.engine.startInstance(spec, "svc", ENV);
    const dir = join(h.workDir, "var/run/openedge/services/svc/svc");
    const [pwd, dataLink, sock] = (await waitForFile(join(h.outDir, "layout"))).trim().split("\n");
    expect(pwd).toBe(dir);
    expect(dataLink).toBe(data);
    expect(sock).toBe(join(h.workDir, "var/run/openedge.sock"));
    expect(lstatSync(join(dir, "lib/openedge/test/svc/1")).isSymbolicLink()).toBe(true);
    await inst.stop(1000);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(data)).toBe(true);
  });

  test("a mount inside another mount is refused", async () => {
    const spec = h.spec("svc", "true");
    spec.mounts.push({ hostPath: h.outDir, path: "out/nested", readonly: false });
    const err = await h.engine.startInstance(spec, "svc", ENV).catch((e: unknown) => e);
    expect(isOpenEdgeError(err, "ERR_CONFIG")).toBe(true);
    expect(existsSync(join(h.outDir, "nested"))).toBe(false);
  });

  test("a mount path that leaves the instance dir is refused", async () => {
    const spec = h.spec("svc", "true");
    spec.mounts.push({ hostPath: h.outDir, path: "../escape", readonly: false });
    await expect(h.engine.startInstance(spec, "svc", ENV)).rejects.toMatchObject({ code: "ERR_CONFIG" });
  });

  test("package.yml without entry is ERR_CONFIG naming the file", async () => {
    const spec = h.spec("svc", "true");
    const pkg = spec.mounts[0]?.hostPath ?? "";
    writeFileSync(join(pkg, "package.yml"), "name: x\n");
    const err = await h.engine.prepare(spec).catch((e: unknown) => e);
    expect(isOpenEdgeError(err, "ERR_CONFIG")).toBe(true);
    expect((err as Error).message).toContain("package.yml");
  });
});

for (const mode of ["cgroups", "no cgroups"] as const) {
  describe(`native process tree (${mode})`, () => {
    let h: NativeHarness;
    beforeAll(() => {
      h = nativeHarness(mode === "no cgroups" ? { cgroups: new NoCgroups("disabled by test") } : {});
    });
    afterAll(() => h.close());

    test("argv[0] is the instance name", async () => {
      const b = nativeHarness({
        ...(mode === "no cgroups" ? { cgroups: new NoCgroups("disabled by test") } : {}),
        isBuiltin: (image) => image === "openedge-sleep",
        builtinCommand: () => ({ argv: ["/bin/sleep", "30"] }),
      });
      try {
        const spec = { ...b.spec("svc", "true"), image: "openedge-sleep" };
        await b.engine.prepare(spec);
        const inst = await b.engine.startInstance(spec, "svc.i1", ENV);
        const pid = inst.pid;
        const argv = await waitFor("exec of sleep", () => {
          const a = cmdline(pid);
          return a[1] === "30" ? a : undefined;
        });
        expect(argv).toEqual(["svc.i1", "30"]);
        await inst.stop(1000);
      } finally {
        await b.close();
      }
    });

    test("a launch that may join late: argv[0] kept, and the process ends up in its cgroups", async () => {
      const b = nativeHarness({
        ...(mode === "no cgroups" ? { cgroups: new NoCgroups("disabled by test") } : {}),
        isBuiltin: (image) => image === "openedge-sleep",
        builtinCommand: () => ({ argv: ["/bin/sleep", "31"], argv0: "/bin/sleep", lateCgroupJoin: true }),
      });
      try {
        const spec = { ...b.spec("svc", "true"), image: "openedge-sleep" };
        await b.engine.prepare(spec);
        const inst = await b.engine.startInstance(spec, "svc.i2", ENV);
        const pid = inst.pid;
        expect(
          await waitFor("exec of sleep", () => (cmdline(pid)[1] === "31" ? cmdline(pid) : undefined)),
        ).toEqual(["/bin/sleep", "31"]);
        if (mode === "cgroups" && b.engine.cgroups.version !== "none") {
          const joined = await waitFor("the instance's cgroup", () => {
            const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8");
            return lines.includes("svc.svc.i2.") ? lines : undefined;
          });
          expect(joined).toContain("svc.svc.i2.");
        }
        await inst.stop(1000);
      } finally {
        await b.close();
      }
    });

    test("stop ends background children and double-forked daemons, leaving no zombies", async () => {
      const script = [
        "sleep 1000 & echo $! > out/bg",
        "( setsid sh -c 'echo $$ > out/daemon.tmp; mv out/daemon.tmp out/daemon; exec sleep 1001' & )",
        "sleep 1002",
      ].join("\n");
      const inst = await h.engine.startInstance(h.spec("svc", script), "svc", ENV);
      const bg = Number(await waitForFile(join(h.outDir, "bg")));
      const daemon = Number(await waitForFile(join(h.outDir, "daemon")));
      await waitFor("daemon exec", () => readStat(daemon)?.comm === "sleep");
      expect(readStat(daemon)?.sid).toBe(daemon);
      expect(await inst.stop(2000)).toMatchObject({ signal: "SIGTERM" });
      expect([pidAlive(bg), pidAlive(daemon)]).toEqual([false, false]);
      await waitFor("adopted zombies reaped", () => adoptedZombies().length === 0, 3000);
    });

    test("a crashed leader takes its children with it before wait() resolves", async () => {
      const inst = await h.engine.startInstance(
        h.spec("svc", "sleep 1000 & echo $! > out/bg2; exit 5"),
        "svc",
        ENV,
      );
      expect(await inst.wait()).toMatchObject({ code: 5, signal: null });
      const bg = Number(await waitForFile(join(h.outDir, "bg2")));
      expect(pidAlive(bg)).toBe(false);
    });
  });
}

describe("native recycled pids", () => {
  test("a leader pid now used by another process is neither a member nor signalled", async () => {
    const other = Bun.spawn({ cmd: ["/bin/sleep", "30"], detached: true });
    try {
      const startTime = readStat(other.pid)?.startTime ?? 0;
      const id = { leader: other.pid, leaderStartTime: startTime + 1, cgroup: null, marker: {} };
      expect(instanceMembers(id, true)).toEqual([]);
      signalInstance(id, "SIGKILL", []);
      expect(pidAlive(other.pid)).toBe(true);
      expect(instanceMembers({ ...id, leaderStartTime: startTime }, true)).toEqual([other.pid]);
    } finally {
      other.kill("SIGKILL");
      await other.exited;
    }
  });
});

describe("native output capture", () => {
  test("stdout and stderr go to the instance log, rotated by size", async () => {
    const h = nativeHarness({ logLimits: { maxBytes: 2000, keep: 2 } });
    try {
      const line = "x".repeat(90);
      const script = `i=0; while [ $i -lt 60 ]; do echo "out-$i ${line}"; echo "err-$i" >&2; i=$((i+1)); [ $((i % 10)) -eq 0 ] && sleep 0.01; done; exit 0`;
      const inst = await h.engine.startInstance(h.spec("svc", script), "svc.i1", ENV);
      expect(await inst.wait()).toMatchObject({ code: 0 });
      const log = join(h.workDir, "var/log/openedge/svc/svc.i1.log");
      // Output comes in bursts so there are several pipe reads; rotation happens between writes.
      expect(existsSync(`${log}.1`)).toBe(true);
      expect(existsSync(`${log}.2`)).toBe(true);
      expect(existsSync(`${log}.3`)).toBe(false);
      const kept = [`${log}.2`, `${log}.1`, log].map((f) => readFileSync(f, "utf8")).join("");
      expect(kept).toContain("out-59 ");
      expect(kept).toContain("err-59\n");
    } finally {
      await h.close();
    }
  });
});

describe("native crash recovery", () => {
  for (const mode of ["cgroups", "none"] as const) {
    test(`a restarted master reaps what a SIGKILLed one left (${mode})`, async () => {
      const h = nativeHarness();
      try {
        const spec = h.spec("left", "sleep 1000 & echo $! > out/left-bg; echo $$ > out/left-pid; sleep 1001");
        const pkg = spec.mounts[0]?.hostPath ?? "";
        const root = join(h.outDir, "..");
        const master = Bun.spawn({
          cmd: [
            process.execPath,
            join(import.meta.dir, "../fixtures/engine/crash-master.ts"),
            root,
            mode,
            pkg,
          ],
          stdout: "pipe",
          stderr: "inherit",
        });
        const reader = master.stdout.getReader();
        const first = await reader.read();
        expect(new TextDecoder().decode(first.value)).toBe("ready\n");
        const bg = Number(await waitForFile(join(h.outDir, "left-bg")));
        const leader = Number(await waitForFile(join(h.outDir, "left-pid")));
        master.kill("SIGKILL");
        await master.exited;
        expect([pidAlive(leader), pidAlive(bg)]).toEqual([true, true]);

        const records = new StateFile(stateFilePath(h.workDir)).load();
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({ service: "left", instance: "left", pid: leader });
        const report = await h.engine.reapLeftovers(records);
        expect(report.reaped).toHaveLength(1);
        await waitFor("leftovers gone", () => !pidAlive(leader) && !pidAlive(bg), 5000);
        for (const dir of records[0]?.cgroups ?? []) expect(existsSync(dir)).toBe(false);
        expect(existsSync(join(h.workDir, "var/run/openedge/services/left/left"))).toBe(false);
      } finally {
        await h.close();
      }
    });
  }

  test("a recorded pid that now belongs to another process is left alone", async () => {
    const h = nativeHarness();
    const other = Bun.spawn({ cmd: ["/bin/sleep", "30"], detached: true });
    try {
      const startTime = readStat(other.pid)?.startTime ?? 0;
      const report = await h.engine.reapLeftovers([
        { engine: "native", service: "old", instance: "old", pid: other.pid, startTime: startTime + 1 },
        { engine: "docker", service: "c", instance: "c", containerId: "abc" },
      ]);
      expect(report.reaped).toEqual([]);
      expect(report.gone.map((r) => r.service)).toEqual(["old"]);
      expect(pidAlive(other.pid)).toBe(true);
    } finally {
      other.kill("SIGKILL");
      await other.exited;
      await h.close();
    }
  });
});

describe("state file", () => {
  test("saves atomically and loads back; a damaged file loads as empty", () => {
    const h = nativeHarness();
    try {
      const file = new StateFile(stateFilePath(h.workDir));
      expect(file.load()).toEqual([]);
      const record = {
        engine: "native" as const,
        service: "s",
        instance: "s",
        pid: 42,
        startTime: 7,
        cgroups: ["/x"],
      };
      file.save([record]);
      expect(file.load()).toEqual([record]);
      writeFileSync(file.path, "{not json");
      expect(file.load()).toEqual([]);
    } finally {
      void h.close();
    }
  });
});
