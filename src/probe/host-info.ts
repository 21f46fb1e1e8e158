// Host facts: os, architecture, kernel, hostname, distribution (os-release), uptime, boot time and the
// process count. The static ones are read once by the host probe; uptime and counts on every call.

import { arch, hostname, machine, platform, release } from "node:os";
import { join } from "node:path";
import { listDir, readNumber, readText, readTrimmed } from "./read-file.ts";

export interface OsRelease {
  id: string;
  idLike: string;
  versionId: string;
  prettyName: string;
}

/** `KEY=value` lines of os-release(5), quotes removed. */
export function parseOsRelease(text: string): OsRelease {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    fields.set(m[1]!, m[2]!.replace(/^(["'])(.*)\1$/, "$2"));
  }
  return {
    id: fields.get("ID") ?? "linux",
    idLike: fields.get("ID_LIKE") ?? "",
    versionId: fields.get("VERSION_ID") ?? "",
    prettyName: fields.get("PRETTY_NAME") ?? fields.get("NAME") ?? "",
  };
}

export function readOsRelease(rootDir: string): OsRelease {
  const text = readText(join(rootDir, "etc/os-release")) ?? readText(join(rootDir, "usr/lib/os-release"));
  return parseOsRelease(text ?? "");
}

export interface PlatformFacts {
  os: string;
  arch: string;
  machine: string;
  bits: 64 | 32;
}

/** `uname -m` names of 64-bit machines; everything else (armv7l, i686, mips) is 32-bit. */
const MACHINES_64 = /^(x86_64|amd64|aarch64|arm64|ppc64|ppc64le|s390x|riscv64|loongarch64|mips64)/;

export function bitsOf(machineName: string): 64 | 32 {
  return MACHINES_64.test(machineName) ? 64 : 32;
}

export function platformFacts(): PlatformFacts {
  const m = machine();
  return { os: platform(), arch: arch(), machine: m, bits: bitsOf(m) };
}

export function readKernelRelease(procRoot: string): string {
  return readTrimmed(join(procRoot, "sys/kernel/osrelease")) ?? release();
}

export function readHostname(procRoot: string): string {
  return readTrimmed(join(procRoot, "sys/kernel/hostname")) ?? hostname();
}

/** Seconds since boot (first field of /proc/uptime), whole seconds; null when unreadable. */
export function readUptime(procRoot: string): number | null {
  const value = readNumber(join(procRoot, "uptime"));
  return value === null ? null : Math.floor(value);
}

/** Processes alive now: the numeric entries of /proc. */
export function countProcesses(procRoot: string): number {
  let n = 0;
  for (const name of listDir(procRoot)) if (/^\d+$/.test(name)) n++;
  return n;
}
