// Log sinks that touch the outside: the console (stdout, which journald collects under systemd) and a
// file with size-based rotation keeping a bounded number of old files.

import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { formatJson, formatText, type LogRecord, type LogSink } from "./logger.ts";

export type LogFormat = "text" | "json";

export class ConsoleSink implements LogSink {
  constructor(
    private readonly format: LogFormat,
    private readonly fd = 1,
  ) {}
  write(record: LogRecord): void {
    const line = (this.format === "json" ? formatJson(record) : formatText(record)) + "\n";
    try {
      writeSync(this.fd, line);
    } catch {
      // a closed stdout (EPIPE) must never take the master down
    }
  }
}

export interface RotatingFileOptions {
  path: string;
  maxBytes: number;
  /** How many rotated files (`path.1` … `path.N`) are kept. */
  keep: number;
  /** Rotated files last written longer ago than this are removed at rotation (0 or absent: no limit). */
  maxAgeMs?: number;
}

/** Appends lines to a file; when it would pass maxBytes, shifts path → path.1 → … and drops the oldest. */
export class RotatingFile {
  private fd: number;
  private size: number;

  constructor(private readonly options: RotatingFileOptions) {
    mkdirSync(dirname(options.path), { recursive: true });
    this.fd = openSync(options.path, "a", 0o640);
    this.size = fstatSync(this.fd).size;
  }

  write(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    if (this.size > 0 && this.size + bytes.length > this.options.maxBytes) this.rotate();
    writeSync(this.fd, bytes);
    this.size += bytes.length;
  }

  close(): void {
    closeSync(this.fd);
  }

  private dropExpired(): void {
    const { path, keep, maxAgeMs } = this.options;
    if (!maxAgeMs) return;
    const cutoff = Date.now() - maxAgeMs;
    for (let i = 1; i <= keep; i++) {
      try {
        if (statSync(`${path}.${i}`).mtimeMs < cutoff) rmSync(`${path}.${i}`, { force: true });
      } catch {
        // a gap in the numbering: nothing to expire there
      }
    }
  }

  private rotate(): void {
    closeSync(this.fd);
    const { path, keep } = this.options;
    if (keep <= 0) {
      rmSync(path, { force: true });
    } else {
      rmSync(`${path}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i--) {
        if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      }
      renameSync(path, `${path}.1`);
      this.dropExpired();
    }
    this.fd = openSync(path, "a", 0o640);
    this.size = 0;
  }
}

export class FileSink implements LogSink {
  private readonly file: RotatingFile;
  constructor(
    options: RotatingFileOptions,
    private readonly format: LogFormat,
  ) {
    this.file = new RotatingFile(options);
  }
  write(record: LogRecord): void {
    this.file.write((this.format === "json" ? formatJson(record) : formatText(record)) + "\n");
  }
  close(): void {
    this.file.close();
  }
}
