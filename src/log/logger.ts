// Structured logger: an event name plus fields, written as JSON lines or text to one or more sinks.
// Child loggers carry fields (`module`, `service`, …) so every line says where it came from.

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogRecord {
  time: number;
  level: LogLevel;
  msg: string;
  fields: LogFields;
}

/** Where formatted records go (console, a rotating file, a test buffer). */
export interface LogSink {
  write(record: LogRecord): void;
  close?(): void;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  enabled(level: LogLevel): boolean;
}

export class SinkLogger implements Logger {
  constructor(
    private readonly sinks: readonly LogSink[],
    private readonly minLevel: LogLevel = "info",
    private readonly bound: LogFields = {},
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }

  child(fields: LogFields): Logger {
    return new SinkLogger(this.sinks, this.minLevel, { ...this.bound, ...fields });
  }

  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= LEVEL_RANK[this.minLevel];
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const record: LogRecord = { time: Date.now(), level, msg, fields: { ...this.bound, ...fields } };
    for (const sink of this.sinks) sink.write(record);
  }
}

/** A logger that drops everything (for callers that take an optional logger). */
export const silentLogger: Logger = new SinkLogger([], "error");

function jsonValue(value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === "bigint") return value.toString();
  return value;
}

export function formatJson(record: LogRecord): string {
  const out: Record<string, unknown> = {
    level: record.level,
    ts: new Date(record.time).toISOString(),
    msg: record.msg,
  };
  for (const [k, v] of Object.entries(record.fields)) {
    if (k !== "level" && k !== "ts" && k !== "msg") out[k] = jsonValue(v);
  }
  return JSON.stringify(out);
}

export function formatText(record: LogRecord): string {
  const ts = new Date(record.time).toISOString();
  const { module, component, ...rest } = record.fields;
  const parts = [ts, record.level.toUpperCase().padEnd(5)];
  const where = module ?? component;
  if (where !== undefined) parts.push(`[${String(where)}]`);
  if (module !== undefined && component !== undefined) rest.component = component;
  parts.push(record.msg);
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) continue;
    const value = jsonValue(v);
    parts.push(`${k}=${typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value)}`);
  }
  return parts.join(" ");
}

/** Collects records in memory; tests read them back. */
export class MemorySink implements LogSink {
  readonly records: LogRecord[] = [];
  write(record: LogRecord): void {
    this.records.push(record);
  }
  find(msg: string): LogRecord | undefined {
    return this.records.find((r) => r.msg === msg);
  }
}
