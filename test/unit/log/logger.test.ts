import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  FileSink,
  formatJson,
  formatText,
  MemorySink,
  RotatingFile,
  SinkLogger,
} from "../../../src/log/index.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "oe-log-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("levels below the minimum are dropped", () => {
  const sink = new MemorySink();
  const log = new SinkLogger([sink], "warn");
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  expect(sink.records.map((r) => `${r.level}:${r.msg}`)).toEqual(["warn:w", "error:e"]);
  expect(log.enabled("info")).toBe(false);
});

test("child loggers carry their fields and call fields win", () => {
  const sink = new MemorySink();
  const log = new SinkLogger([sink], "debug").child({ module: "engine", engine: "native" });
  log.child({ service: "hub" }).info("instance_started", { pid: 42, engine: "override" });
  expect(sink.records[0]?.fields).toEqual({ module: "engine", engine: "override", service: "hub", pid: 42 });
});

test("JSON lines hold level, ts, msg and fields; text puts the module in brackets", () => {
  const record = {
    time: 0,
    level: "info" as const,
    msg: "master_ready",
    fields: { module: "master", pid: 7 },
  };
  expect(JSON.parse(formatJson(record))).toEqual({
    level: "info",
    ts: "1970-01-01T00:00:00.000Z",
    msg: "master_ready",
    module: "master",
    pid: 7,
  });
  expect(formatText(record)).toBe("1970-01-01T00:00:00.000Z INFO  [master] master_ready pid=7");
});

test("errors log as their message", () => {
  const record = { time: 0, level: "error" as const, msg: "x", fields: { error: new Error("boom") } };
  expect(JSON.parse(formatJson(record)).error).toBe("boom");
});

test("the rotating file shifts old files and keeps only `keep` of them", () => {
  const dir = tempDir();
  const path = join(dir, "out.log");
  const file = new RotatingFile({ path, maxBytes: 100, keep: 2 });
  for (let i = 0; i < 10; i++) file.write(`${String(i).repeat(49)}\n`);
  file.close();
  expect(readdirSync(dir).sort()).toEqual(["out.log", "out.log.1", "out.log.2"]);
  // 10 lines of 50 bytes, 2 per file: the newest two lines are in out.log, older ones shifted
  expect(readFileSync(path, "utf8")).toBe(`${"8".repeat(49)}\n${"9".repeat(49)}\n`);
  expect(readFileSync(`${path}.1`, "utf8").startsWith("6")).toBe(true);
  expect(readFileSync(`${path}.2`, "utf8").startsWith("4")).toBe(true);
});

test("a rotating file appends to what is already there", () => {
  const dir = tempDir();
  const path = join(dir, "a.log");
  const first = new RotatingFile({ path, maxBytes: 1000, keep: 1 });
  first.write("one\n");
  first.close();
  const second = new RotatingFile({ path, maxBytes: 1000, keep: 1 });
  second.write("two\n");
  second.close();
  expect(readFileSync(path, "utf8")).toBe("one\ntwo\n");
});

test("the file sink writes records in the chosen format", () => {
  const dir = tempDir();
  const path = join(dir, "sub/master.log");
  const sink = new FileSink({ path, maxBytes: 1 << 20, keep: 1 }, "json");
  new SinkLogger([sink], "info").info("hello", { a: 1 });
  sink.close();
  expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ level: "info", msg: "hello", a: 1 });
});

test("rotation drops rotated files older than maxAge", () => {
  const dir = tempDir();
  const path = join(dir, "aged.log");
  const file = new RotatingFile({ path, maxBytes: 10, keep: 5, maxAgeMs: 60_000 });
  file.write("0123456789");
  file.write("abcdefghij"); // rotates: out.1 = digits
  const old = new Date(Date.now() - 120_000);
  utimesSync(`${path}.1`, old, old);
  file.write("ABCDEFGHIJ"); // rotates: .1 → .2 (old, dropped), letters → .1
  file.close();
  expect(readdirSync(dir).sort()).toEqual(["aged.log", "aged.log.1"]);
  expect(readFileSync(`${path}.1`, "utf8")).toBe("abcdefghij");
});

test("text lines name the component when there is no module, and skip undefined fields", () => {
  const record = {
    time: 0,
    level: "info" as const,
    msg: "engine_ready",
    fields: { component: "engine", note: undefined, n: 1 },
  };
  expect(formatText(record)).toBe("1970-01-01T00:00:00.000Z INFO  [engine] engine_ready n=1");
});
