// A stable host id: systemd's /etc/machine-id, else D-Bus's copy, else an id generated once and kept
// under the work dir (`var/db/openedge/host.id`) so it survives restarts and OTA updates.

import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { errorMessage } from "../lib/errors.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { readTrimmed } from "./read-file.ts";
import type { HostIdSource } from "./types.ts";

export const HOST_ID_FILE = "var/db/openedge/host.id";

export interface HostId {
  id: string;
  source: HostIdSource;
}

export interface HostIdDeps {
  /** Root for /etc and /var/lib; `/` unless a test says otherwise. */
  rootDir?: string;
  workDir: string;
  log?: Logger;
}

// machine-id(5): 32 lowercase hex digits; an empty or `uninitialized` file means "not set yet"
const MACHINE_ID = /^[0-9a-f]{32}$/i;

export function resolveHostId(deps: HostIdDeps): HostId {
  const root = deps.rootDir ?? "/";
  const log = deps.log ?? silentLogger;
  const candidates: [string, HostIdSource][] = [
    [join(root, "etc/machine-id"), "machine-id"],
    [join(root, "var/lib/dbus/machine-id"), "dbus-machine-id"],
  ];
  for (const [path, source] of candidates) {
    const id = readTrimmed(path);
    if (id !== null && MACHINE_ID.test(id)) return { id: id.toLowerCase(), source };
  }

  const file = join(deps.workDir, HOST_ID_FILE);
  const kept = readTrimmed(file);
  if (kept !== null && MACHINE_ID.test(kept)) return { id: kept.toLowerCase(), source: "generated" };

  const id = randomBytes(16).toString("hex");
  try {
    mkdirSync(dirname(file), { recursive: true });
    // write then rename, so a crash never leaves a half-written id behind
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${id}\n`, { mode: 0o644 });
    renameSync(tmp, file);
    log.info("host_id_generated", { path: file });
    return { id, source: "generated" };
  } catch (err) {
    // a read-only work dir still gets an id, it just will not survive a restart
    log.warn("host_id_not_persisted", { path: file, error: errorMessage(err) });
    return { id, source: "ephemeral" };
  }
}
