// Exponential backoff shared by the module keeper and the socket client's reconnect loop.

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: each delay is scaled by a random factor in [1 - jitter, 1]. */
  jitter: number;
  /** A run or connection that lasted this long resets the attempt counter. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  minMs: 100,
  maxMs: 30_000,
  factor: 2,
  jitter: 0,
  resetAfterMs: 60_000,
};

/** Delay before retry number `attempt` (0-based). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.maxMs, options.minMs * options.factor ** Math.min(attempt, 64));
  if (options.jitter <= 0) return base;
  return Math.round(base * (1 - options.jitter * random()));
}
