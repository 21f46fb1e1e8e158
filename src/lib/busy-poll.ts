// Keeps Bun's event loop polling instead of sleeping for a short window after activity: while an
// immediate is pending the loop checks its sockets without blocking, so traffic that comes back within
// the window finds the process awake. Where waking an idle CPU is slow (VMs without guest
// halt-polling: 50–150 µs and a millisecond tail per wake-up) that wake-up is the largest part of a
// request/response round trip.
//
// The window adapts the way Linux's haltpoll cpuidle governor adapts its own: it grows while the loop
// keeps being woken within the longest window (polling would have caught that traffic) and shrinks
// while it sleeps longer, so sparse traffic costs no polling and an idle process sleeps. Polling also
// stops while every CPU has something else to run: it must only use a CPU that would otherwise idle.

import { openSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { MapReader } from "../config/index.ts";
import type { Clock } from "./clock.ts";

const cpus = availableParallelism();
/** A polling window past this is a core kept busy, not a latency setting. */
const MAX_BUSY_POLL_MS = 10;

/**
 * The longest window unless configured: Linux's own default for guest halt-polling (200 µs). With one
 * CPU, whatever would wake the process needs that CPU, so polling could only delay it.
 */
export const DEFAULT_BUSY_POLL_MS = cpus > 1 ? 0.2 : 0;

/**
 * Time between two polling turns, spent spinning: every turn allocates its immediate and runs a loop
 * iteration, and a turn per microsecond collected the young generation ten times a second in a
 * process doing nothing else (2 µs apart: about three). Not before the owner's own immediate.
 */
const TURN_GAP_MS = 0.002;

/** A service.yml's `busypoll` (a duration, the longest window; 0: off), in ms. */
export function readBusyPoll(r: MapReader): number {
  const ms = r.duration("busypoll", `${DEFAULT_BUSY_POLL_MS}ms`);
  if (ms > MAX_BUSY_POLL_MS) r.issues.error(r.pathOf("busypoll"), "must be at most 10ms");
  return ms;
}

/** The polling window after each burst, adapted to how long the loop then sleeps. */
export class PollWindow {
  /** The current window in ms (0: sleep at once). */
  current = 0;

  constructor(readonly maxMs: number) {}

  /** The loop slept `ms` before traffic woke it. */
  woke(ms: number): void {
    const start = this.maxMs / 4;
    if (ms <= this.maxMs) this.current = Math.min(this.maxMs, Math.max(this.current * 2, start));
    else this.current = this.current / 2 < start ? 0 : this.current / 2;
  }
}

/** Whether a CPU would sit idle while this process polls: no more runnable tasks than CPUs. */
export type CpuSpare = () => boolean;

export class BusyPoller {
  private readonly window: PollWindow;
  private until = 0;
  private polling = false;
  private stopped = false;
  /** When the loop last had nothing more to do (0: not yet). */
  private quietSince = 0;

  /**
   * `onTurn` counts the loop turns spent polling (for statistics); `workQueued` says whether the owner
   * has an immediate of its own waiting behind this turn (then the turn does not spin before it).
   */
  constructor(
    maxMs: number,
    private readonly clock: Clock,
    private readonly onTurn: () => void = () => {},
    private readonly cpuSpare: CpuSpare = runnableBelowCpus,
    private readonly workQueued: () => boolean = () => false,
  ) {
    this.window = new PollWindow(maxMs);
  }

  /** The current window, ms. */
  get windowMs(): number {
    return this.window.current;
  }

  /** Activity now: poll for the window from here. */
  extend(): void {
    if (this.window.maxMs <= 0 || this.stopped) return;
    const now = this.clock.monotonic();
    if (!this.polling) {
      if (this.quietSince > 0) this.window.woke(now - this.quietSince);
      this.quietSince = now;
      if (this.window.current <= 0 || !this.cpuSpare()) return;
      this.polling = true;
      setImmediate(this.turn);
    }
    this.until = now + this.window.current;
  }

  stop(): void {
    this.stopped = true;
  }

  private readonly turn = (): void => {
    const now = this.clock.monotonic();
    // other work waiting for a CPU is looked for every turn: polling must give way at once
    if (this.stopped || now >= this.until || !this.cpuSpare()) {
      this.polling = false;
      this.quietSince = now;
      return;
    }
    this.onTurn();
    if (!this.workQueued()) {
      // real time, whatever clock the poller was given: this is CPU spent, not a deadline
      const next = performance.now() + TURN_GAP_MS;
      while (performance.now() < next) {}
    }
    setImmediate(this.turn);
  };
}

/** The open /proc/loadavg; -1 where it cannot be read (then polling is allowed). */
let loadavg: number | undefined;
const loadBuf = Buffer.alloc(64);

/**
 * Whether the runnable tasks now (this one included, on any CPU) are no more than the CPUs:
 * /proc/loadavg read with one pread of an open file, ~2 µs, allocating nothing.
 */
export function runnableBelowCpus(): boolean {
  if (loadavg === -1) return true;
  try {
    loadavg ??= openSync("/proc/loadavg", "r");
    return runnableTasks(loadBuf, readSync(loadavg, loadBuf, 0, loadBuf.length, 0)) <= cpus;
  } catch {
    loadavg = -1;
    return true;
  }
}

/** The fourth field of /proc/loadavg's first `length` bytes ("0.54 0.84 1.00 3/78 13319": 3). */
export function runnableTasks(text: Uint8Array, length = text.length): number {
  let spaces = 0;
  let running = 0;
  for (let i = 0; i < length; i++) {
    const c = text[i] as number;
    if (spaces === 3) {
      if (c < 0x30 || c > 0x39) break; // the '/' after it
      running = running * 10 + (c - 0x30);
    } else if (c === 0x20) spaces++;
  }
  return running;
}
