// The pids Bun itself waits for (children spawned by the native engine). Process-wide on purpose:
// being a child of this process is a property of the process, and every orphan reaper in it must
// leave these alone, or it would steal the exit status Bun is waiting for.

const spawned = new Set<number>();

export function trackSpawned(pid: number): void {
  spawned.add(pid);
}

/** Call after Bun has reaped the child (its `exited` promise settled). */
export function untrackSpawned(pid: number): void {
  spawned.delete(pid);
}

export function isSpawnedByBun(pid: number): boolean {
  return spawned.has(pid);
}
