import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { HostProbe, type NetworkInterfaceMap, probeHost } from "../../../src/probe/index.ts";
import { PROC, ROOTFS, SYS, tempDir } from "./fixture-paths.ts";

const BOGUS_NVML = ["/nonexistent/libnvidia-ml.so.1"];
const work = tempDir();
afterAll(() => work.remove());

const ADDRESSES: NetworkInterfaceMap = {
  eth0: [
    {
      address: "192.168.1.10",
      netmask: "255.255.255.0",
      family: "IPv4",
      mac: "02:00:00:00:00:01",
      internal: false,
      cidr: "192.168.1.10/24",
    },
  ],
};

function keysOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) keysOf(v, out);
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      keysOf(v, out);
    }
  }
  return out;
}

describe("HostProbe on the fixture tree (a Jetson Nano)", () => {
  const probe = new HostProbe({
    procRoot: PROC,
    sysRoot: SYS,
    rootDir: ROOTFS,
    workDir: work.path,
    nvmlPaths: BOGUS_NVML,
    networkInterfaces: () => ADDRESSES,
  });
  const inspect = probe.inspect();

  test("software facts", () => {
    expect(inspect.software).toMatchObject({
      os: process.platform,
      arch: process.arch,
      kernel_version: "5.15.0-tegra",
      hostname: "gateway-7",
      host_id: "0123456789abcdef0123456789abcdef",
      host_id_source: "machine-id",
    });
    expect([32, 64]).toContain(inspect.software.bits);
  });

  test("host, mem, cpu, net, disk and gpu blocks", () => {
    const hw = inspect.hardware;
    expect(hw.host_stats).toMatchObject({
      hostname: "gateway-7",
      uptime: 1000,
      boot_time: 1700000000,
      process_num: 1,
      platform: "ubuntu",
      platform_family: "debian",
      platform_version: "20.04",
      kernel_version: "5.15.0-tegra",
      host_id: "0123456789abcdef0123456789abcdef",
    });
    expect(hw.host_stats.error).toBeUndefined();
    expect(hw.mem_stats).toMatchObject({ total: 4045812 * 1024, used_percent: 36.72, swap_used_percent: 50 });
    expect(hw.cpu_stats).toEqual({
      used_percent: 14.74,
      model: "ARMv8 Processor rev 1 (v8l)",
      cores: 2,
      load: { load1: 0.52, load5: 0.38, load15: 0.21 },
    });
    expect(hw.net_stats.interfaces.map((i) => i.name)).toEqual(["lo", "eth0", "wlan0"]);
    expect(hw.disk_stats.path).toBe(work.path);
    expect(hw.disk_stats.total).toBeGreaterThan(0);
    expect(hw.gpu_stats).toEqual([expect.objectContaining({ source: "jetson", gpu_used_percent: 42.7 })]);
  });

  test("every JSON key is snake_case, as OpenEdge's inspect", () => {
    for (const key of keysOf(JSON.parse(JSON.stringify(inspect)))) expect(key).toMatch(/^[a-z0-9_]+$/);
  });

  test("missing trees give errors in the blocks, never a throw", () => {
    const none = join(work.path, "nowhere");
    const bare = probeHost({
      procRoot: none,
      sysRoot: none,
      rootDir: none,
      workDir: work.path,
      nvmlPaths: BOGUS_NVML,
    });
    expect(bare.hardware.mem_stats.error).toBeDefined();
    expect(bare.hardware.cpu_stats.error).toBeDefined();
    expect(bare.hardware.host_stats.error).toBeDefined();
    expect(bare.hardware.gpu_stats).toEqual([]);
    expect(bare.software.host_id_source).toBe("generated");
  });
});

describe("HostProbe on this machine", () => {
  const probe = new HostProbe({ workDir: work.path });
  afterAll(() => probe.close());

  test("values in sane ranges", () => {
    const { software, hardware } = probe.inspect();
    expect(software.os).toBe("linux");
    expect(["x64", "arm64"]).toContain(software.arch);
    expect(software.host_id).toMatch(/^[0-9a-f]{32}$/);
    expect(hardware.mem_stats.total).toBeGreaterThan(0);
    expect(hardware.mem_stats.used_percent).toBeGreaterThanOrEqual(0);
    expect(hardware.mem_stats.used_percent).toBeLessThanOrEqual(100);
    expect(hardware.disk_stats.total).toBeGreaterThan(0);
    expect(hardware.disk_stats.error).toBeUndefined();
    expect(hardware.cpu_stats.cores).toBeGreaterThan(0);
    expect(hardware.cpu_stats.used_percent).toBeGreaterThanOrEqual(0);
    expect(hardware.cpu_stats.used_percent).toBeLessThanOrEqual(100);
    expect(hardware.host_stats.uptime).toBeGreaterThan(0);
    expect(hardware.host_stats.process_num).toBeGreaterThan(0);
    expect(hardware.net_stats.interfaces.length).toBeGreaterThan(0);
    expect(Array.isArray(hardware.gpu_stats)).toBe(true);
  });

  test("a reading costs a few ms", () => {
    probe.inspect();
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t = performance.now();
      probe.inspect();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    // generous: ~0.5 ms here; the bound only catches a reading that started sleeping or spawning
    expect(times[7]!).toBeLessThan(50);
  });
});
