import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectCgroups } from "../../../src/engine/index.ts";
import {
  parseMountinfo,
  parseProcCgroup,
  v1Hierarchies,
  v2Dir,
} from "../../../src/engine/native/cgroups/parse.ts";
import { CgroupV2Manager } from "../../../src/engine/native/cgroups/v2.ts";
import { silentLogger } from "../../../src/log/index.ts";

// This build machine: v1 controllers plus an empty cgroup2 at /sys/fs/cgroup/unified.
const HYBRID_CGROUP = `9:name=systemd:/
8:pids:/
4:memory:/process_api/abc
2:cpu,cpuacct:/
3:cpuset:/
0::/`;
const HYBRID_MOUNTS = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;

// Raspberry Pi OS (bookworm): unified hierarchy, openedge.service under systemd.
const PI_CGROUP = "0::/system.slice/openedge.service\n";
const PI_MOUNTS =
  "30 24 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot";

describe("cgroup discovery", () => {
  test("hybrid v1: one dir per controller, co-mounted controllers share it", () => {
    const h = v1Hierarchies(parseProcCgroup(HYBRID_CGROUP), parseMountinfo(HYBRID_MOUNTS));
    expect(h.get("memory")?.dir).toBe("/sys/fs/cgroup/memory/process_api/abc");
    expect(h.get("pids")?.dir).toBe("/sys/fs/cgroup/pids");
    expect(h.get("cpu")).toBe(h.get("cpuacct"));
    expect(h.get("cpu")?.dir).toBe("/sys/fs/cgroup/cpu,cpuacct");
    expect(h.has("name=systemd")).toBe(false);
  });

  test("unified v2 under systemd", () => {
    const memberships = parseProcCgroup(PI_CGROUP);
    const mounts = parseMountinfo(PI_MOUNTS);
    expect(v1Hierarchies(memberships, mounts).size).toBe(0);
    expect(v2Dir(memberships, mounts)).toBe("/sys/fs/cgroup/system.slice/openedge.service");
  });

  test("a container mount whose root is our own group", () => {
    const mounts = parseMountinfo(
      "50 40 0:30 /docker/123 /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory",
    );
    const h = v1Hierarchies(parseProcCgroup("5:memory:/docker/123/sub\n"), mounts);
    expect(h.get("memory")?.dir).toBe("/sys/fs/cgroup/memory/sub");
    expect(v1Hierarchies(parseProcCgroup("5:memory:/elsewhere\n"), mounts).size).toBe(0);
  });

  test("escaped mount points are decoded", () => {
    const [m] = parseMountinfo("1 0 0:1 / /mnt/with\\040space rw - cgroup2 cgroup2 rw");
    expect(m?.mountPoint).toBe("/mnt/with space");
  });

  test("no cgroup mounts at all: none, with a reason", () => {
    const m = detectCgroups({ log: silentLogger, sleep: Bun.sleep, procCgroup: "0::/\n", mountinfo: "" });
    expect(m.version).toBe("none");
    expect(m.reason).toContain("no cgroup hierarchy");
  });
});

describe("cgroup v2 limits (on a fake cgroupfs)", () => {
  let root = "";
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function fakeGroup(): string {
    root = mkdtempSync(join(tmpdir(), "openedge-cg2-"));
    writeFileSync(join(root, "cgroup.controllers"), "cpuset cpu io memory pids\n");
    writeFileSync(join(root, "cgroup.subtree_control"), "cpuset cpu memory pids\n");
    mkdirSync(join(root, "openedge"));
    writeFileSync(join(root, "openedge/cgroup.subtree_control"), "cpuset cpu memory pids\n");
    return root;
  }

  test("writes cpu.max, cpuset.cpus, memory.max and pids.max; swap without accounting is reported", () => {
    const dir = fakeGroup();
    const m = CgroupV2Manager.open({
      dir,
      parent: "openedge",
      log: silentLogger,
      sleep: Bun.sleep,
      moveSelf: false,
      pid: 1,
    });
    if (!(m instanceof CgroupV2Manager)) throw new Error(m.reason);
    expect(m.reason).toBeUndefined();
    const handle = m.create("svc.svc.1", {
      cpu: { cpus: 0.5, setcpus: "0-1" },
      memory: { limitBytes: 1 << 26, swapBytes: 0 },
      pids: { limit: 32 },
    });
    const leaf = join(dir, "openedge/svc.svc.1");
    const read = (f: string) => readFileSync(join(leaf, f), "utf8");
    expect([read("cpu.max"), read("cpuset.cpus"), read("memory.max"), read("pids.max")]).toEqual([
      "50000 100000",
      "0-1",
      String(1 << 26),
      "32",
    ]);
    expect(handle.procsFiles).toEqual([join(leaf, "cgroup.procs")]);
    expect(handle.limits).toMatchObject({
      enforced: false,
      via: "cgroup-v2",
      applied: { cpus: 0.5, setcpus: "0-1", memoryBytes: 1 << 26, pids: 32 },
      skipped: [{ limit: "memory.swap" }],
    });
    expect(handle.limits.reason).toContain("swap accounting");
  });

  test("controllers that are not delegated are named in the report", () => {
    const dir = fakeGroup();
    // Only memory and pids are offered to us (a fake file cannot emulate "+cpu" writes).
    writeFileSync(join(dir, "cgroup.controllers"), "io memory pids\n");
    writeFileSync(join(dir, "cgroup.subtree_control"), "memory pids\n");
    writeFileSync(join(dir, "openedge/cgroup.subtree_control"), "memory pids\n");
    const m = CgroupV2Manager.open({
      dir,
      parent: "openedge",
      log: silentLogger,
      sleep: Bun.sleep,
      moveSelf: false,
      pid: 1,
    });
    if (!(m instanceof CgroupV2Manager)) throw new Error(m.reason);
    expect(m.reason).toContain("cpu");
    const handle = m.create("x", { cpu: { cpus: 1 }, memory: { limitBytes: 1024 } });
    expect(handle.limits.applied).toEqual({ memoryBytes: 1024 });
    expect(handle.limits.skipped).toEqual([
      { limit: "cpu.cpus", reason: expect.stringContaining("not delegated") },
    ]);
  });

  test("a group offering neither memory nor pids is unusable", () => {
    root = mkdtempSync(join(tmpdir(), "openedge-cg2-"));
    writeFileSync(join(root, "cgroup.controllers"), "cpu io\n");
    const m = CgroupV2Manager.open({
      dir: root,
      parent: "openedge",
      log: silentLogger,
      sleep: Bun.sleep,
      moveSelf: false,
      pid: 1,
    });
    expect(m).toEqual({ reason: expect.stringContaining("neither memory nor pids") });
  });
});
