// var/db/openedge/ota.log: one JSON line per update step (OpenEdge's UPDATING, UPDATED, ROLLINGBACK,
// ROLLEDBACK, FAILURE), with the trace the caller gave, so a cloud agent can follow an update.

import type { LoggerConfig } from "../config/index.ts";
import { RotatingFile } from "../log/index.ts";

export type OtaStep = "UPDATING" | "UPDATED" | "ROLLINGBACK" | "ROLLEDBACK" | "FAILURE";

export interface OtaEntry {
  step: OtaStep;
  trace?: string;
  type: "APP" | "MST";
  message?: string;
  error?: string;
}

export class OtaLog {
  private readonly file: RotatingFile;

  constructor(
    config: LoggerConfig,
    private readonly now: () => number,
  ) {
    this.file = new RotatingFile({ path: config.file, maxBytes: config.size.max, keep: config.backup.max });
  }

  write(entry: OtaEntry): void {
    this.file.write(`${JSON.stringify({ time: new Date(this.now()).toISOString(), ...entry })}\n`);
  }

  close(): void {
    this.file.close();
  }
}
