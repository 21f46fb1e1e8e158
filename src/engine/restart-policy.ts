// Restart decisions shared by every engine: whether an exit is restarted, the backoff delay before the
// n-th consecutive restart, and the instance names of a service's replicas.

import type { BackoffSpec, ExitInfo, RestartPolicy } from "./types.ts";

/** `<service>`, `<service>.i1`, `<service>.i2`, … */
export function replicaNames(service: string, replica: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < replica; i++) names.push(i === 0 ? service : `${service}.i${i}`);
  return names;
}

export function isFailure(exit: ExitInfo): boolean {
  return exit.error !== undefined || exit.signal !== null || exit.code !== 0;
}

export function shouldRestart(policy: RestartPolicy, exit: ExitInfo): boolean {
  if (policy === "always") return true;
  if (policy === "on-failure") return isFailure(exit);
  return false;
}

/**
 * Delay before consecutive restart `n` (1-based): min·factor^(n−1), capped at max, spread by ±jitter.
 * `random` returns [0, 1); the result never exceeds max nor drops below min·(1−jitter).
 */
export function backoffDelay(spec: BackoffSpec, n: number, random: () => number): number {
  const jitter = Math.min(1, Math.max(0, spec.jitter ?? 0.1));
  const factor = Math.max(1, spec.factor);
  const exp = Math.max(0, n - 1);
  // Cap before multiplying so large n does not overflow to Infinity.
  const base = Math.min(spec.maxMs, spec.minMs * factor ** Math.min(exp, 64));
  const spread = base * jitter * (2 * random() - 1);
  return Math.max(0, Math.min(spec.maxMs, Math.round(base + spread)));
}
