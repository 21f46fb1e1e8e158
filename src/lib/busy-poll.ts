// Keeps Bun's event loop polling instead of sleeping for a short window after activity: while an
// immediate is pending the loop checks its sockets without blocking, so a reply that comes back within
// the window finds the process awake. Where waking an idle CPU is slow (VMs without guest
// halt-polling: 50–150 µs and a millisecond tail per wake-up) that wake-up is the largest part of a
// request/response round trip. The price is up to one window of CPU per burst; with no activity the
// loop sleeps as before.

import type { MapReader } from "../config/index.ts";
import type { Clock } from "./clock.ts";

/** A polling window past this is a core kept busy, not a latency setting. */
const MAX_BUSY_POLL_MS = 10;

/** A service.yml's `busypoll` (a duration, default 0: off), in ms. */
export function readBusyPoll(r: MapReader): number {
  const ms = r.duration("busypoll", 0);
  if (ms > MAX_BUSY_POLL_MS) r.issues.error(r.pathOf("busypoll"), "must be at most 10ms");
  return ms;
}

export class BusyPoller {
  private until = 0;
  private polling = false;
  private stopped = false;

  /** `onTurn` counts the loop turns spent polling (for statistics). */
  constructor(
    private readonly windowMs: number,
    private readonly clock: Clock,
    private readonly onTurn: () => void = () => {},
  ) {}

  /** Activity now: poll until `windowMs` from here. */
  extend(): void {
    if (this.windowMs <= 0 || this.stopped) return;
    this.until = this.clock.monotonic() + this.windowMs;
    if (this.polling) return;
    this.polling = true;
    setImmediate(this.turn);
  }

  stop(): void {
    this.stopped = true;
  }

  private readonly turn = (): void => {
    if (this.stopped || this.clock.monotonic() >= this.until) {
      this.polling = false;
      return;
    }
    this.onTurn();
    setImmediate(this.turn);
  };
}
