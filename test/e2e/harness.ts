// Drives the compiled executable for end-to-end tests: temp work dirs, one-shot commands, and a
// running master whose JSON log lines can be awaited by event name.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");

/** The executable under test: OPENEDGE_BIN, else the host build in dist/. */
export function binPath(): string {
  const fromEnv = process.env.OPENEDGE_BIN;
  if (fromEnv) return fromEnv;
  const path = join(root, process.arch === "arm64" ? "dist/openedge-linux-arm64" : "dist/openedge-linux-x64");
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build:host\` first`);
  return path;
}

const cleanups: Array<() => void> = [];

export function tempDir(prefix = "oe-e2e-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function cleanupAll(): void {
  for (const fn of cleanups.splice(0).reverse()) fn();
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(args: string[], opts: { env?: Record<string, string> } = {}): Promise<RunResult> {
  const proc = Bun.spawn([binPath(), ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export class RunningMaster {
  readonly lines: LogLine[] = [];
  readonly raw: string[] = [];
  private waiters: Array<{ test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  readonly exited: Promise<number>;

  constructor(readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">) {
    this.exited = proc.exited;
    void this.pump(proc.stdout);
    void this.pump(proc.stderr);
  }

  private async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl = buffered.indexOf("\n");
      while (nl !== -1) {
        this.onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
      }
    }
  }

  private onLine(text: string): void {
    this.raw.push(text);
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** Resolves with the first log line whose msg is `msg` (already seen or yet to come). */
  waitFor(msg: string, timeoutMs = 15_000): Promise<LogLine> {
    return this.waitUntil((l) => l.msg === msg, 0, timeoutMs, `"${msg}"`);
  }

  /** The first log line from index `from` on that passes `test`, already seen or yet to come. */
  waitUntil(
    test: (l: LogLine) => boolean,
    from = 0,
    timeoutMs = 15_000,
    what = "matching",
  ): Promise<LogLine> {
    const seen = this.lines.slice(from).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no ${what} log line within ${timeoutMs} ms; output:\n${this.raw.join("\n")}`));
      }, timeoutMs);
      this.waiters.push({
        test,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
    this.proc.kill(signal);
    return this.exited;
  }
}

/** Runs `fn` at cleanup time (after the test file), in reverse order of registration. */
export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
}

export function startMaster(args: string[], env: Record<string, string> = {}): RunningMaster {
  const proc = Bun.spawn([binPath(), "start", ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  const master = new RunningMaster(proc);
  cleanups.push(() => {
    if (proc.exitCode === null) proc.kill(9);
  });
  return master;
}
