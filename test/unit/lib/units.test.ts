import { describe, expect, test } from "bun:test";
import { formatBytes, parseDuration, parseSize } from "../../../src/lib/units.ts";

describe("parseSize", () => {
  test.each([
    ["32k", 32 * 1024],
    ["4m", 4 * 1024 * 1024],
    ["1g", 1024 ** 3],
    ["1.5K", 1536],
    ["512", 512],
    ["10MB", 10 * 1024 ** 2],
    [2048, 2048],
  ] as const)("%p is %p bytes", (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  test.each(["", "k", "-1k", "12x", "1 2k", null, -5, Number.NaN, {}])("%p is rejected", (input) => {
    expect(parseSize(input)).toBeNull();
  });
});

describe("parseDuration", () => {
  test.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["48h", 172_800_000],
    ["1h30m", 5_400_000],
    ["0", 0],
    [2, 2000],
  ] as const)("%p is %p ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  test.each(["", "s", "5", "5 m", "1h 30m", "-1s", "10y", "1h30", null])("%p is rejected", (input) => {
    expect(parseDuration(input)).toBeNull();
  });
});

test("formatBytes picks a readable unit", () => {
  expect(formatBytes(512)).toBe("512 B");
  expect(formatBytes(1536)).toBe("1.5 KiB");
  expect(formatBytes(5 * 1024 ** 3)).toBe("5.0 GiB");
});
