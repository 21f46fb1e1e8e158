import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type NetworkInterfaceMap,
  netStatsFrom,
  parseNetDev,
  readNetStats,
} from "../../../src/probe/index.ts";
import { PROC, SYS } from "./fixture-paths.ts";

const ADDRESSES: NetworkInterfaceMap = {
  lo: [
    {
      address: "127.0.0.1",
      netmask: "255.0.0.0",
      family: "IPv4",
      mac: "00:00:00:00:00:00",
      internal: true,
      cidr: "127.0.0.1/8",
    },
  ],
  eth0: [
    {
      address: "192.168.1.10",
      netmask: "255.255.255.0",
      family: "IPv4",
      mac: "02:00:00:00:00:01",
      internal: false,
      cidr: "192.168.1.10/24",
    },
    {
      address: "fe80::1",
      netmask: "ffff:ffff:ffff:ffff::",
      family: "IPv6",
      mac: "02:00:00:00:00:01",
      internal: false,
      cidr: "fe80::1/64",
      scopeid: 2,
    },
  ],
  tun9: [
    {
      address: "10.8.0.2",
      netmask: "255.255.255.0",
      family: "IPv4",
      mac: "",
      internal: false,
      cidr: "10.8.0.2/24",
    },
  ],
};

describe("/proc/net/dev", () => {
  test("header lines skipped; counters glued to the colon still parse", () => {
    const rows = parseNetDev(readFileSync(join(PROC, "net/dev"), "utf8"));
    expect(rows.map((r) => r.name)).toEqual(["lo", "eth0", "wlan0"]);
    expect(rows[1]).toEqual({
      name: "eth0",
      rxBytes: 290975439,
      rxPackets: 6587,
      rxErrors: 1,
      rxDropped: 2,
      txBytes: 355925,
      txPackets: 3424,
      txErrors: 3,
      txDropped: 4,
    });
  });

  test("addresses merged by name; MAC from sysfs when the interface has no address", () => {
    const stats = readNetStats(PROC, SYS, ADDRESSES);
    expect(stats.error).toBeUndefined();
    expect(stats.interfaces.map((i) => i.name)).toEqual(["lo", "eth0", "wlan0", "tun9"]);
    const [, eth0, wlan0, tun9] = stats.interfaces;
    expect(eth0).toMatchObject({ mac: "02:00:00:00:00:01", rx_bytes: 290975439, tx_bytes: 355925 });
    expect(eth0?.addrs).toEqual([
      { family: "ipv4", address: "192.168.1.10", cidr: "192.168.1.10/24" },
      { family: "ipv6", address: "fe80::1", cidr: "fe80::1/64" },
    ]);
    expect(wlan0).toMatchObject({ mac: "aa:bb:cc:dd:ee:ff", addrs: [], rx_bytes: 100, tx_bytes: 200 });
    // known to the address table only (no net/dev line, no sysfs node): zeros and no MAC
    expect(tun9).toMatchObject({ mac: "00:00:00:00:00:00", rx_bytes: 0 });
  });

  test("without net/dev the addresses are still reported, with an error", () => {
    const stats = netStatsFrom(null, ADDRESSES, SYS);
    expect(stats.interfaces).toHaveLength(3);
    expect(stats.error).toBeDefined();
  });
});
