// Keeps Bun's event loop polling instead of sleeping for a short window after activity: while an
// immediate is pending the loop checks its sockets without blocking, so a reply that comes back within
// the window finds the process awake. Where waking an idle CPU is slow (VMs without guest
// halt-polling: 50–150 µs and a millisecond tail per wake-up) that wake-up is the largest part of a
// request/response round trip. The price is up to one window of CPU per burst; with no activity the
// loop sleeps as before.

import type { Clock } from "./clock.ts";

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
