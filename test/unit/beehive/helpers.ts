// Shared helpers of the beehive tests: message builders, temp socket paths, waiting on real I/O.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildMessage, type Message, Operation, Resource } from "../../../src/beehive/index.ts";
import { type LogRecord, MemorySink, SinkLogger } from "../../../src/log/index.ts";

export function msg(source: string, destination: string, content: unknown = null): Message {
  return buildMessage({
    source,
    destination,
    operation: Operation.query,
    resource: Resource.message,
    content,
  });
}

/** A short temp dir (unix socket paths are limited to ~107 bytes) and a cleanup. */
export function tempSocket(): { dir: string; path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "bh-"));
  return { dir, path: join(dir, "bus"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function memoryLog(): { log: SinkLogger; sink: MemorySink; events: (msg: string) => LogRecord[] } {
  const sink = new MemorySink();
  return {
    log: new SinkLogger([sink], "debug"),
    sink,
    events: (m: string) => sink.records.filter((r) => r.msg === m),
  };
}

/**
 * Waits until `cond` holds, letting real socket I/O happen in between (event-loop turns, not a fixed
 * sleep); fails with `what` after `timeoutMs`.
 */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
    if (!cond()) await Bun.sleep(1);
  }
}

/** Lets pending promise callbacks run. */
export async function flush(times = 10): Promise<void> {
  for (let i = 0; i < times; i++) await Promise.resolve();
}

/** Settles `p` into a value or the error it rejected with, for assertions. */
export function outcome<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/**
 * A clock for high-volume tests: timers in a Set (O(1) cancel), fired together by `fireAll`.
 * FakeClock keeps a sorted array, which is right for ordering tests but slow with 100k timers.
 */
export class BatchClock {
  private readonly timers = new Set<() => void>();
  private time = 0;
  now(): number {
    return this.time;
  }
  monotonic(): number {
    return this.time;
  }
  setTimeout(fn: () => void, _ms: number): { cancel(): void } {
    const timer = () => fn();
    this.timers.add(timer);
    return { cancel: () => this.timers.delete(timer) };
  }
  sleep(): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, 0));
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Jumps far ahead and fires every timer (and those they set, once). */
  fireAll(): void {
    this.time += 1e9;
    const due = [...this.timers];
    this.timers.clear();
    for (const t of due) t();
  }
}

/** A raw unix-socket client for byte-level tests: what it received, and whether the server closed it. */
export async function rawClient(path: string) {
  const state = { closed: false, received: [] as Uint8Array[] };
  const socket = await Bun.connect({
    unix: path,
    socket: {
      data(_s, chunk) {
        state.received.push(new Uint8Array(chunk));
      },
      close() {
        state.closed = true;
      },
    },
  });
  return {
    state,
    write: (bytes: Uint8Array | string) => socket.write(bytes),
    end: () => socket.end(),
  };
}
