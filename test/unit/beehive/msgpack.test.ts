// Our MessagePack writer and reader against msgpackr (the reference implementation here): every format
// boundary both ways, random plain values, what goes to msgpackr, and what a reused source buffer
// must not do to decoded strings and bytes.

import { describe, expect, test } from "bun:test";
import { Packr } from "msgpackr";
import { decodeMsgpack, encodeMsgpack } from "../../../src/beehive/msgpack.ts";

const reference = new Packr({ useRecords: false, copyBuffers: true });

const boundaries: unknown[] = [
  null,
  true,
  false,
  0,
  127,
  128,
  255,
  256,
  65535,
  65536,
  4294967295,
  4294967296,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -2147483648,
  -2147483649,
  1795452442759,
  Number.MAX_SAFE_INTEGER,
  0.5,
  -1.25e-300,
  Number.POSITIVE_INFINITY,
  "",
  "a".repeat(10),
  "a".repeat(11),
  "a".repeat(31),
  "a".repeat(32),
  "é".repeat(100),
  "b".repeat(255),
  "b".repeat(256),
  "c".repeat(70000),
  "日本語 🚀 text",
  Buffer.alloc(0),
  Buffer.alloc(255, 1),
  Buffer.alloc(256, 2),
  Buffer.alloc(70000, 3),
  Array.from({ length: 15 }, (_, i) => i),
  Array.from({ length: 16 }, (_, i) => i),
  Array.from({ length: 70000 }, (_, i) => i % 3),
  Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i])),
  Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])),
  {
    header: { id: "2925a408-b255-4470-9ed1-113c9d47b8b5", sync: true },
    content: { payload: Buffer.from("x") },
  },
];

describe("plain values", () => {
  test.each(boundaries.map((v, i) => [i, v]))("#%d reads back the same here and in msgpackr", (_, value) => {
    const ours = encodeMsgpack(value);
    expect(reference.unpack(ours)).toEqual(value);
    expect(decodeMsgpack(ours)).toEqual(value);
    expect(decodeMsgpack(reference.pack(value))).toEqual(reference.unpack(reference.pack(value)));
  });

  test("random nested values agree with msgpackr both ways", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const gen = (depth: number): unknown => {
      switch (rand(depth > 3 ? 6 : 8)) {
        case 0:
          return null;
        case 1:
          return rand(2) === 0;
        case 2:
          return rand(2) === 0 ? rand(1 << 20) - (1 << 19) : (rand(1000) - 500) / 7;
        case 3:
          return String.fromCharCode(...Array.from({ length: rand(40) }, () => 0x20 + rand(0x2000)));
        case 4:
          return Buffer.from(Array.from({ length: rand(300) }, () => rand(256)));
        case 5:
          return `k${rand(50)}`;
        case 6:
          return Array.from({ length: rand(20) }, () => gen(depth + 1));
        default:
          return Object.fromEntries(
            Array.from({ length: rand(20) }, () => [`f${rand(100)}`, gen(depth + 1)]),
          );
      }
    };
    for (let i = 0; i < 80; i++) {
      const value = gen(0);
      expect(reference.unpack(encodeMsgpack(value))).toEqual(value);
      expect(decodeMsgpack(reference.pack(value))).toEqual(value);
    }
  });

  test("undefined map values are left out; undefined elsewhere is nil", () => {
    expect(decodeMsgpack(encodeMsgpack({ a: 1, b: undefined }))).toEqual({ a: 1 });
    expect(decodeMsgpack(encodeMsgpack([undefined, 1]))).toEqual([null, 1]);
  });
});

describe("left to msgpackr", () => {
  test("dates, maps, big integers and class instances encode and decode as msgpackr's", () => {
    const date = new Date(1_700_000_000_000);
    const value = { when: date, m: new Map([[1, "one"]]), big: 2n ** 60n, set: [new Uint16Array([1, 2])] };
    expect(encodeMsgpack(value)).toEqual(reference.pack(value));
    expect(decodeMsgpack(reference.pack(value))).toEqual(reference.unpack(reference.pack(value)));
    expect(decodeMsgpack(reference.pack(2 ** 60))).toBe(2 ** 60); // uint64
  });

  test("truncated or trailing input gets msgpackr's answer", () => {
    const body = encodeMsgpack({ topic: "a/b", payload: Buffer.alloc(40) });
    for (const cut of [1, 5, 20, body.length - 1]) {
      expect(() => decodeMsgpack(body.subarray(0, cut))).toThrow();
    }
    const trailing = Buffer.concat([encodeMsgpack(1), encodeMsgpack(2)]);
    expect(() => reference.unpack(trailing)).toThrow("end of buffer not reached");
    expect(() => decodeMsgpack(trailing)).toThrow("end of buffer not reached");
    const unused = Buffer.from([0xc1]); // the one byte MessagePack never uses
    expect(decodeMsgpack(unused)).toEqual(reference.unpack(unused));
  });

  test("a __proto__ key does not reach the prototype", () => {
    const body = Buffer.from([0x81, 0xa9, ...Buffer.from("__proto__"), 0x81, 0xa1, 0x78, 0x01]);
    const decoded = decodeMsgpack(body) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe("a reused source buffer", () => {
  test("decoded bytes and cached strings do not change when the source does", () => {
    const source = Buffer.from(encodeMsgpack({ name: "alpha", payload: Buffer.from("data") }));
    const first = decodeMsgpack(source) as { name: string; payload: Buffer };
    const again = Buffer.from(encodeMsgpack({ name: "omega", payload: Buffer.from("DATA") }));
    again.copy(source); // the read buffer filled with the next frame
    const second = decodeMsgpack(source) as { name: string; payload: Buffer };
    expect([first.name, first.payload.toString()]).toEqual(["alpha", "data"]);
    expect([second.name, second.payload.toString()]).toEqual(["omega", "DATA"]);
  });
});
