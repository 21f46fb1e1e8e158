// var/db/openedge/application.stats: the running instances as JSON, rewritten atomically (temp file +
// rename) on every change, so a master restarted after a crash can end exactly what was left running.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Logger } from "../log/index.ts";
import type { InstanceRecord } from "./types.ts";

export const STATE_FILE = "var/db/openedge/application.stats";

export function stateFilePath(workDir: string): string {
  return join(workDir, STATE_FILE);
}

interface StateDocument {
  version: 1;
  instances: InstanceRecord[];
}

export class StateFile {
  constructor(
    readonly path: string,
    private readonly log?: Logger,
  ) {}

  save(records: readonly InstanceRecord[]): void {
    const doc: StateDocument = { version: 1, instances: [...records] };
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(doc, null, 2) + "\n", { mode: 0o600 });
    renameSync(tmp, this.path);
  }

  /** The recorded instances; an absent file is empty, a damaged one is logged and treated as empty. */
  load(): InstanceRecord[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    try {
      const doc = JSON.parse(text) as Partial<StateDocument>;
      if (!Array.isArray(doc.instances)) throw new Error("no instances array");
      return doc.instances.filter(isRecord);
    } catch (err) {
      this.log?.warn("state_file_unreadable", { path: this.path, error: err });
      return [];
    }
  }
}

function isRecord(value: unknown): value is InstanceRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    (r["engine"] === "native" || r["engine"] === "docker") &&
    typeof r["service"] === "string" &&
    typeof r["instance"] === "string" &&
    (r["pid"] === undefined ||
      (typeof r["pid"] === "number" && Number.isInteger(r["pid"]) && r["pid"] > 0)) &&
    (r["startTime"] === undefined || typeof r["startTime"] === "number") &&
    (r["cgroups"] === undefined ||
      (Array.isArray(r["cgroups"]) && r["cgroups"].every((c) => typeof c === "string"))) &&
    (r["containerId"] === undefined || typeof r["containerId"] === "string")
  );
}
