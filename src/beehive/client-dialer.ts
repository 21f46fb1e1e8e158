// The socket client's connection loop: dials the master's unix socket and, after a failed dial or a
// lost connection, dials again after an exponential backoff on the injected clock.

import type { Socket } from "bun";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { Logger } from "../log/index.ts";
import { type BackoffOptions, backoffDelay } from "./backoff.ts";

/** What a live connection is to the dialer: where to feed its socket events. */
export interface DialedConnection {
  data(chunk: Uint8Array): void;
  drain(): void;
}

export interface DialerDeps {
  path: string;
  clock: Clock;
  log: Logger;
  backoff: BackoffOptions;
  /** A socket connected: returns what handles it. */
  opened(socket: Socket<undefined>): DialedConnection;
  /** That connection closed. */
  lost(conn: DialedConnection): void;
}

export class ClientDialer {
  private dialing = false;
  private attempt = 0;
  private timer: TimerHandle | null = null;
  private stopped = false;

  constructor(private readonly deps: DialerDeps) {}

  /** Whether a dial is under way or scheduled. */
  get pending(): boolean {
    return this.dialing || this.timer !== null;
  }

  /** The connection was accepted: the next failure starts over from the shortest delay. */
  succeeded(): void {
    this.attempt = 0;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  async dial(): Promise<void> {
    if (this.stopped || this.dialing) return;
    this.dialing = true;
    this.timer = null;
    const { deps } = this;
    let conn: DialedConnection | null = null;
    try {
      await Bun.connect({
        unix: deps.path,
        socket: {
          open: (socket: Socket<undefined>) => {
            conn = deps.opened(socket);
          },
          data: (_socket, chunk) => conn?.data(chunk),
          drain: () => conn?.drain(),
          close: () => {
            if (conn !== null) deps.lost(conn);
          },
          error: (_socket, error) => deps.log.warn("bus_connection_error", { error: error.message }),
          connectError: () => {},
        },
      });
    } catch (error) {
      deps.log.debug("bus_connect_failed", {
        error: error instanceof Error ? error.message : String(error),
        attempt: this.attempt,
      });
      this.retry();
    } finally {
      this.dialing = false;
    }
  }

  /** Schedules the next dial after the backoff delay of this attempt. */
  retry(): void {
    if (this.stopped || this.timer !== null) return;
    const delayMs = backoffDelay(this.attempt, this.deps.backoff);
    this.attempt++;
    this.deps.log.info("bus_reconnect_scheduled", { delayMs, attempt: this.attempt });
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      void this.dial();
    }, delayMs);
  }
}
