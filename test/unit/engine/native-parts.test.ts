import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeEnv, launchPlan } from "../../../src/engine/native/launcher.ts";
import { forgetProcesses, recentProcesses } from "../../../src/engine/native/members.ts";
import { hostPathFor, packageRelDir, resolvePackage } from "../../../src/engine/native/package.ts";
import { parseStat } from "../../../src/engine/native/procfs.ts";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";
import { makeSpec } from "../../fixtures/engine/spec.ts";

describe("native packages", () => {
  let root = "";
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("image colons become folders under lib/openedge", () => {
    expect(packageRelDir("hub.baidubce.com/openedge/openedge-hub:0.1.4")).toBe(
      "lib/openedge/hub.baidubce.com/openedge/openedge-hub/0.1.4",
    );
  });

  test("the deepest mount covering the package supplies it", () => {
    const mounts = [
      { hostPath: "/vol/lib", path: "lib", readonly: true },
      { hostPath: "/vol/pkg", path: "lib/openedge/x/1/", readonly: true },
    ];
    expect(hostPathFor(mounts, "lib/openedge/x/1")).toBe("/vol/pkg");
    expect(hostPathFor(mounts, "lib/openedge/y")).toBe("/vol/lib/openedge/y");
    expect(hostPathFor(mounts, "libx/openedge")).toBeNull();
  });

  function pkg(manifest: string | null, entry?: { name: string; mode: number }) {
    root = mkdtempSync(join(tmpdir(), "openedge-pkg-"));
    if (manifest !== null) writeFileSync(join(root, "package.yml"), manifest);
    if (entry !== undefined) {
      mkdirSync(join(root, "bin"), { recursive: true });
      writeFileSync(join(root, entry.name), "#!/bin/sh\n");
      chmodSync(join(root, entry.name), entry.mode);
    }
    return makeSpec({
      image: "a/b:1",
      mounts: [{ hostPath: root, path: "lib/openedge/a/b/1", readonly: true }],
    });
  }

  test("resolves entry relative to the package folder", () => {
    const spec = pkg("entry: bin/run\n", { name: "bin/run", mode: 0o755 });
    expect(resolvePackage(spec)).toEqual({ relDir: "lib/openedge/a/b/1", hostDir: root, entry: "bin/run" });
  });

  test.each([
    ["no volume mounted there", () => makeSpec({ image: "a/b:1" }), "ERR_NOT_FOUND", "no volume is mounted"],
    ["no package.yml", () => pkg(null), "ERR_NOT_FOUND", "package.yml"],
    ["package.yml without entry", () => pkg("name: x\n"), "ERR_CONFIG", 'no "entry"'],
    [
      "entry escaping the package",
      () => pkg("entry: ../../etc/passwd\n"),
      "ERR_CONFIG",
      "inside the package",
    ],
    ["entry missing", () => pkg("entry: bin/run\n"), "ERR_NOT_FOUND", "missing or not executable"],
    [
      "entry not executable",
      () => pkg("entry: bin/run\n", { name: "bin/run", mode: 0o644 }),
      "ERR_NOT_FOUND",
      "not executable",
    ],
  ] as const)("%s", (_name, make, code, text) => {
    let err: unknown;
    try {
      resolvePackage(make());
    } catch (e) {
      err = e;
    }
    expect(isOpenEdgeError(err, code)).toBe(true);
    expect((err as Error).message).toContain(text);
  });
});

describe("native launcher", () => {
  test("env precedence: host < service < system", () => {
    expect(composeEnv({ A: "h", B: "h", C: "h" }, { B: "s", C: "s" }, { C: "sys" })).toEqual({
      A: "h",
      B: "s",
      C: "sys",
    });
  });

  test("without cgroups the entry is spawned directly under the instance name", () => {
    expect(launchPlan(["/x/run", "a"], "svc.i1", [], { argv: ["/bin/bash"], execA: true })).toEqual({
      cmd: ["/x/run", "a"],
      argv0: "svc.i1",
    });
  });

  test("with cgroups a shell joins them, then execs with argv[0] renamed", () => {
    const plan = launchPlan(["/x/run", "a"], "svc", ["/cg/a/cgroup.procs", "/cg/b/cgroup.procs"], {
      argv: ["/bin/busybox", "sh"],
      execA: true,
    });
    expect(plan.argv0).toBe("/bin/busybox");
    expect(plan.cmd.slice(0, 3)).toEqual(["/bin/busybox", "sh", "-c"]);
    expect(plan.cmd[3]).toContain('exec -a "$0" "$@"');
    expect(plan.cmd.slice(4)).toEqual([
      "svc",
      "/cg/a/cgroup.procs",
      "/cg/b/cgroup.procs",
      "--",
      "/x/run",
      "a",
    ]);
  });

  test("the join script refuses to run unconfined when a cgroup cannot be joined", () => {
    const plan = launchPlan(["/bin/echo", "ran"], "svc", ["/proc/version/cannot"], {
      argv: ["/bin/sh"],
      execA: false,
    });
    const r = Bun.spawnSync({ cmd: plan.cmd });
    expect(r.exitCode).toBe(125);
    expect(r.stdout.toString()).toBe("");
    expect(r.stderr.toString()).toContain("cannot join cgroup /proc/version/cannot");
  });
});

describe("procfs", () => {
  test("stat lines with spaces and parentheses in the command name", () => {
    const line =
      "4282 (my (odd) name) S 4281 4282 4282 0 -1 4194304 76 0 1 0 12 3 0 0 20 0 1 0 68327 2990080 428 18446744073709551615";
    expect(parseStat(line)).toMatchObject({
      pid: 4282,
      comm: "my (odd) name",
      state: "S",
      ppid: 4281,
      pgid: 4282,
      sid: 4282,
      utimeTicks: 12,
      stimeTicks: 3,
      startTime: 68327,
    });
    expect(parseStat("garbage")).toBeNull();
  });
});

describe("shared /proc scans for instance figures", () => {
  test("figures sampled together share one scan; a spawn (or age) makes the next one fresh", async () => {
    forgetProcesses();
    const first = recentProcesses();
    expect(first.some((p) => p.pid === process.pid)).toBe(true);
    expect(recentProcesses()).toBe(first); // the same scan, not a second walk of /proc
    const child = Bun.spawn(["sleep", "5"]);
    try {
      forgetProcesses(); // what the engine does right after it spawns
      const fresh = recentProcesses();
      expect(fresh).not.toBe(first);
      expect(fresh.some((p) => p.pid === child.pid)).toBe(true);
      await Bun.sleep(20);
      expect(recentProcesses(10)).not.toBe(fresh); // older than asked for: scanned again
    } finally {
      child.kill();
      await child.exited;
    }
  });
});
