// Work dirs for e2e runs of native services: openedge.yml with a short grace, the fixture packages
// (test/fixtures/e2e/packages) under var/db/openedge/pkgs, an application.yml written from a compact
// service list, and a master started in it whose processes all carry a marker the cleanup kills by.

import { expect } from "bun:test";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { onCleanup, type RunningMaster, startMaster, tempDir } from "./harness.ts";
import { killQuietly, pidsWithEnv } from "./procs.ts";

const PACKAGES = join(import.meta.dir, "../fixtures/e2e/packages");

/** Every process a test master starts inherits OPENEDGE_E2E_WORKDIR=<its work dir>. */
export const MARKER = "OPENEDGE_E2E_WORKDIR";

/** A package whose entry is a symlink to the sleep binary, so argv[0] reaches /proc intact. */
export const SLEEP_BINARY_PACKAGE = "sleepbin";

export interface ServiceDef {
  name: string;
  /** A folder of test/fixtures/e2e/packages, or SLEEP_BINARY_PACKAGE. */
  pkg: string;
  replica?: number;
  args?: string[];
  env?: Record<string, string>;
  restart?: Record<string, unknown>;
  resources?: Record<string, unknown>;
}

/** Fast restarts unless a test says otherwise. */
const FAST_BACKOFF = { min: "100ms", max: "1s" };

/** application.yml in OpenEdge's format: each package a volume mounted at lib/openedge/<pkg>. */
export function applicationYaml(services: readonly ServiceDef[], version = "v1"): string {
  const pkgs = [...new Set(services.map((s) => s.pkg))];
  return stringify({
    version,
    services: services.map((s) => ({
      name: s.name,
      image: s.pkg,
      replica: s.replica ?? 1,
      ...(s.args ? { args: s.args } : {}),
      ...(s.env ? { env: s.env } : {}),
      restart: { ...s.restart, backoff: (s.restart?.backoff as object | undefined) ?? FAST_BACKOFF },
      ...(s.resources ? { resources: s.resources } : {}),
      mounts: [{ name: `pkg-${s.pkg}`, path: `lib/openedge/${s.pkg}`, readonly: true }],
    })),
    volumes: pkgs.map((p) => ({ name: `pkg-${p}`, path: `var/db/openedge/pkgs/${p}` })),
  });
}

export function applicationFile(workDir: string): string {
  return join(workDir, "var/db/openedge/application.yml");
}

export function readApplication(workDir: string): string {
  return readFileSync(applicationFile(workDir), "utf8");
}

/** A fresh work dir with every fixture package and the given application. */
export function makeWorkDir(services: readonly ServiceDef[], opts: { grace?: string } = {}): string {
  const wd = tempDir();
  mkdirSync(join(wd, "etc/openedge"), { recursive: true });
  writeFileSync(
    join(wd, "etc/openedge/openedge.yml"),
    `grace: ${opts.grace ?? "2s"}\nlogger:\n  level: info\n`,
  );
  const pkgs = join(wd, "var/db/openedge/pkgs");
  cpSync(PACKAGES, pkgs, { recursive: true });
  const sleepbin = join(pkgs, SLEEP_BINARY_PACKAGE);
  mkdirSync(sleepbin);
  writeFileSync(join(sleepbin, "package.yml"), "entry: bin\n");
  symlinkSync(sleepPath(), join(sleepbin, "bin"));
  writeFileSync(applicationFile(wd), applicationYaml(services));
  return wd;
}

function sleepPath(): string {
  const found = Bun.which("sleep");
  if (found === null) throw new Error("no sleep binary on PATH");
  return found;
}

/** Writes an application file elsewhere in the work dir (for updates) and returns its path. */
export function writeApplicationAt(workDir: string, name: string, text: string): string {
  const path = join(workDir, name);
  writeFileSync(path, text);
  return path;
}

/** Live processes started from this work dir's master (the master itself included while it runs). */
export function markedPids(workDir: string): number[] {
  return pidsWithEnv(MARKER, workDir);
}

/** Starts a master in the work dir and waits until it is ready; its leftovers die at cleanup. */
export async function startReady(workDir: string, timeoutMs = 20_000): Promise<RunningMaster> {
  onCleanup(() => {
    for (const pid of markedPids(workDir)) killQuietly(pid);
  });
  const master = startMaster(["-w", workDir], { [MARKER]: workDir });
  await master.waitFor("master_ready", timeoutMs);
  return master;
}

/** The instance's log file: var/log/openedge/<service>/<instance>.log. */
export function instanceLog(workDir: string, service: string, instance: string): string {
  const path = join(workDir, "var/log/openedge", service, `${instance}.log`);
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/** SIGTERM to the master: it exits 0 and leaves no process of this work dir behind. */
export async function stopCleanly(master: RunningMaster, workDir: string): Promise<void> {
  expect(await master.stop()).toBe(0);
  expect(markedPids(workDir)).toEqual([]);
}
