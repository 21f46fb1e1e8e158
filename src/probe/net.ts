// Network interfaces: traffic counters from /proc/net/dev (every interface, up or down), addresses and
// MACs from os.networkInterfaces, and the MAC from sysfs for an interface that has no address.

import { join } from "node:path";
import type { NetworkInterfaceMap } from "./deps.ts";
import { readText, readTrimmed, toNumber } from "./read-file.ts";
import type { NetAddress, NetInterface, NetStats } from "./types.ts";

export interface NetDevCounters {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/** The interface lines of /proc/net/dev, in the kernel's order. */
export function parseNetDev(text: string): NetDevCounters[] {
  const out: NetDevCounters[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    // the two header lines have `|` and no `name:` prefix
    if (colon < 0 || line.includes("|")) continue;
    const name = line.slice(0, colon).trim();
    // old kernels glue large counters to the colon (`eth0:123456`), so split after it
    const v = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (name === "" || v.length < 12) continue;
    out.push({
      name,
      rxBytes: toNumber(v[0]),
      rxPackets: toNumber(v[1]),
      rxErrors: toNumber(v[2]),
      rxDropped: toNumber(v[3]),
      txBytes: toNumber(v[8]),
      txPackets: toNumber(v[9]),
      txErrors: toNumber(v[10]),
      txDropped: toNumber(v[11]),
    });
  }
  return out;
}

const NO_MAC = "00:00:00:00:00:00";

function addressesOf(infos: NetworkInterfaceMap[string]): { mac: string | null; addrs: NetAddress[] } {
  let mac: string | null = null;
  const addrs: NetAddress[] = [];
  for (const info of infos ?? []) {
    if (mac === null && info.mac !== "") mac = info.mac;
    addrs.push({
      family: info.family === "IPv6" ? "ipv6" : "ipv4",
      address: info.address,
      cidr: info.cidr ?? info.address,
    });
  }
  return { mac, addrs };
}

/** Interfaces known to /proc/net/dev or to the address table, merged by name. */
export function netStatsFrom(
  netDev: NetDevCounters[] | null,
  addresses: NetworkInterfaceMap,
  sysRoot: string,
): NetStats {
  const byName = new Map<string, NetDevCounters>();
  for (const c of netDev ?? []) byName.set(c.name, c);
  const names = [...byName.keys()];
  for (const name of Object.keys(addresses)) if (!byName.has(name)) names.push(name);

  const interfaces: NetInterface[] = names.map((name) => {
    const c = byName.get(name);
    const { mac, addrs } = addressesOf(addresses[name]);
    return {
      name,
      mac: mac ?? readTrimmed(join(sysRoot, "class/net", name, "address")) ?? NO_MAC,
      addrs,
      rx_bytes: c?.rxBytes ?? 0,
      tx_bytes: c?.txBytes ?? 0,
      rx_packets: c?.rxPackets ?? 0,
      tx_packets: c?.txPackets ?? 0,
      rx_errors: c?.rxErrors ?? 0,
      tx_errors: c?.txErrors ?? 0,
      rx_dropped: c?.rxDropped ?? 0,
      tx_dropped: c?.txDropped ?? 0,
    };
  });
  return netDev === null ? { interfaces, error: "cannot read net/dev" } : { interfaces };
}

export function readNetStats(procRoot: string, sysRoot: string, addresses: NetworkInterfaceMap): NetStats {
  const text = readText(join(procRoot, "net/dev"));
  return netStatsFrom(text === null ? null : parseNetDev(text), addresses, sysRoot);
}
