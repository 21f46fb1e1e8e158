// Deadlines of offline persistent sessions, on one clock timer armed for the earliest of them: no
// timer while no session is offline, no polling.

import type { Clock, TimerHandle } from "../lib/clock.ts";

/** setTimeout's largest delay; a later deadline is reached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Deadlines are kept in insertion order, which is deadline order: each is "went offline + the same
 * expiry", sessions go offline in time order and those loaded at start are added sorted. So the
 * earliest is the first entry, and adding and cancelling cost O(1). Should the wall clock step back,
 * a deadline added afterwards waits behind the ones before it: a session expires late, never early.
 */
export class SessionExpiry {
  private readonly deadlines = new Map<string, number>();
  private timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly expire: (clientId: string) => void,
  ) {}

  get size(): number {
    return this.deadlines.size;
  }

  /** Sets (or moves to the back with a new time) the session's deadline, epoch ms. */
  schedule(clientId: string, at: number): void {
    this.deadlines.delete(clientId);
    this.deadlines.set(clientId, at);
    if (this.timer === null) this.arm();
  }

  cancel(clientId: string): void {
    if (!this.deadlines.delete(clientId)) return;
    if (this.deadlines.size === 0) this.stop();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(): void {
    this.timer?.cancel();
    this.timer = null;
    const first = this.deadlines.values().next();
    if (first.done) return;
    const delay = Math.min(Math.max(0, first.value - this.clock.now()), MAX_DELAY_MS);
    this.timer = this.clock.setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.timer = null;
    const now = this.clock.now();
    for (const [clientId, at] of this.deadlines) {
      if (at > now) break;
      this.deadlines.delete(clientId);
      this.expire(clientId);
    }
    this.arm();
  }
}

/**
 * Deadlines for the sessions loaded at start, counted from when each went offline; a session with no
 * recorded time (an older store, or a crash while connected) counts as offline from now, written back
 * so later restarts do not reset it.
 */
export function scheduleLoadedSessions(
  expiry: SessionExpiry,
  persistence: { setOffline(clientId: string, since: number | null): void },
  loaded: ReadonlyArray<{ clientId: string; offlineSince: number | null }>,
  now: number,
  expiryMs: number,
): void {
  const offline: Array<[string, number]> = [];
  for (const p of loaded) {
    if (p.offlineSince === null) persistence.setOffline(p.clientId, now);
    offline.push([p.clientId, p.offlineSince ?? now]);
  }
  if (expiryMs <= 0) return;
  offline.sort((a, b) => a[1] - b[1]);
  for (const [clientId, since] of offline) expiry.schedule(clientId, since + expiryMs);
}
