import { describe, expect, test } from "bun:test";
import { eventOf, payloadOf } from "../../../src/function/index.ts";

describe("payload semantics (OpenEdge's)", () => {
  test("event: JSON when the payload parses, bytes otherwise", () => {
    expect(eventOf(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(eventOf(Buffer.from("42"))).toBe(42);
    expect(eventOf(Buffer.from('"s"'))).toBe("s");
    const raw = eventOf(Buffer.from("not json"));
    expect(Buffer.isBuffer(raw)).toBe(true);
    expect(Buffer.isBuffer(eventOf(new Uint8Array(0)))).toBe(true);
    // invalid UTF-8 stays bytes even where a repaired text would parse
    expect(Buffer.isBuffer(eventOf(Buffer.from([0x22, 0xff, 0x22])))).toBe(true);
  });

  test("result: object/array/number → JSON, bytes raw, string UTF-8, null/undefined/empty → nothing", () => {
    expect(Buffer.from(payloadOf({ a: 1 }) ?? []).toString()).toBe('{"a":1}');
    expect(Buffer.from(payloadOf([1]) ?? []).toString()).toBe("[1]");
    expect(Buffer.from(payloadOf(3) ?? []).toString()).toBe("3");
    expect(payloadOf(Buffer.from([1, 2]))).toEqual(Buffer.from([1, 2]));
    expect(payloadOf(new Uint8Array([9]))).toEqual(new Uint8Array([9]));
    expect(Buffer.from(payloadOf("é") ?? []).toString("hex")).toBe("c3a9");
    expect(payloadOf(null)).toBeNull();
    expect(payloadOf(undefined)).toBeNull();
    expect(payloadOf("")).toBeNull();
    expect(payloadOf(Buffer.alloc(0))).toBeNull();
  });
});
