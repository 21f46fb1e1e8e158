import { describe, expect, test } from "bun:test";
import { backoffDelay, isFailure, replicaNames, shouldRestart } from "../../../src/engine/index.ts";

describe("restart policy helpers", () => {
  test("replica names", () => {
    expect(replicaNames("hub", 0)).toEqual([]);
    expect(replicaNames("hub", 3)).toEqual(["hub", "hub.i1", "hub.i2"]);
  });

  test("failures are non-zero codes, signals and start errors", () => {
    expect(isFailure({ code: 0, signal: null })).toBe(false);
    expect(isFailure({ code: 1, signal: null })).toBe(true);
    expect(isFailure({ code: null, signal: "SIGKILL" })).toBe(true);
    expect(isFailure({ code: null, signal: null, error: "no package" })).toBe(true);
    expect(shouldRestart("on-failure", { code: 0, signal: null })).toBe(false);
    expect(shouldRestart("always", { code: 0, signal: null })).toBe(true);
    expect(shouldRestart("no", { code: 1, signal: null })).toBe(false);
  });

  test("backoff delay: min·factor^(n−1), capped, jitter bounded, no overflow", () => {
    const spec = { minMs: 1000, maxMs: 300_000, factor: 2, jitter: 0.1 };
    const mid = () => 0.5;
    expect([1, 2, 3, 9, 10, 5000].map((n) => backoffDelay(spec, n, mid))).toEqual([
      1000, 2000, 4000, 256_000, 300_000, 300_000,
    ]);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(spec, 3, Math.random);
      expect(d).toBeGreaterThanOrEqual(3600);
      expect(d).toBeLessThanOrEqual(4400);
    }
    expect(backoffDelay({ minMs: 1000, maxMs: 1000, factor: 2, jitter: 0.5 }, 1, () => 0.99)).toBe(1000);
  });
});
