import { describe, expect, test } from "bun:test";
import { buildMessage, codecById, codecByName, jsonCodec, msgpackCodec } from "../../../src/beehive/index.ts";

const codecs = [jsonCodec, msgpackCodec];

describe.each(codecs.map((c) => [c.name, c] as const))("%s codec", (_name, codec) => {
  test("round-trips a message with nested content", () => {
    const m = buildMessage({
      source: "a",
      destination: "b",
      operation: "update",
      resource: "twin",
      content: {
        s: "ünïcødé ✓",
        n: 1.5,
        neg: -7,
        big: 2 ** 40,
        t: true,
        f: false,
        z: null,
        list: [1, "x", { y: [] }],
      },
    });
    expect(codec.decode(codec.encode(m))).toEqual(m);
  });

  test("carries Uint8Array and Buffer content, at the top and nested, as bytes", () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    const buf = Buffer.from("binary\u0000payload");
    const value = { top: bytes, nested: { list: [buf, new Uint8Array(0)] }, view: bytes.subarray(10, 20) };
    const back = codec.decode(codec.encode(value)) as {
      top: Uint8Array;
      nested: { list: Uint8Array[] };
      view: Uint8Array;
    };
    expect(back.top).toBeInstanceOf(Uint8Array);
    expect([...back.top]).toEqual([...bytes]);
    expect(Buffer.from(back.nested.list[0] as Uint8Array).toString()).toBe("binary\u0000payload");
    expect((back.nested.list[1] as Uint8Array).length).toBe(0);
    expect([...back.view]).toEqual([...bytes.subarray(10, 20)]);
    const raw = codec.decode(codec.encode(bytes)) as Uint8Array;
    expect([...raw]).toEqual([...bytes]);
  });

  test("decoded bytes do not alias the input buffer", () => {
    const encoded = codec.encode({ b: new Uint8Array([1, 2, 3]) });
    const back = codec.decode(encoded) as { b: Uint8Array };
    encoded.fill(0);
    expect([...back.b]).toEqual([1, 2, 3]);
  });

  test("rejects a garbage body", () => {
    expect(() => codec.decode(new Uint8Array([0xc1, 0xff, 0x00, 0x7b]))).toThrow();
  });
});

test("json codec wire form tags bytes as {$bin: base64}", () => {
  const text = Buffer.from(jsonCodec.encode({ b: new Uint8Array([104, 105]) })).toString();
  expect(JSON.parse(text)).toEqual({ b: { $bin: "aGk=" } });
});

test("codec lookup by id and name", () => {
  expect(codecById(0)).toBe(jsonCodec);
  expect(codecById(1)).toBe(msgpackCodec);
  expect(codecById(2)).toBeUndefined();
  expect(codecByName("msgpack")).toBe(msgpackCodec);
  expect(codecByName("json")).toBe(jsonCodec);
  expect(codecByName("xml")).toBeUndefined();
});

test("json codec tags bytes wherever JSON.stringify reaches them, keeping JSON's own rules", () => {
  class Reading {
    raw = new Uint8Array([1, 2]);
    unit = "V";
  }
  let deep: unknown = new Uint8Array([9]);
  for (let i = 0; i < 80; i++) deep = { d: deep };
  const own = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>;
  (own.__proto__ as Record<string, unknown>).b = new Uint8Array([7]);
  const value = { r: new Reading(), at: new Date(0), deep, own, skip: undefined };
  const wire = JSON.parse(Buffer.from(jsonCodec.encode(value)).toString()) as Record<string, unknown>;
  expect(wire.r).toEqual({ raw: { $bin: "AQI=" }, unit: "V" });
  expect(wire.at).toBe("1970-01-01T00:00:00.000Z");
  expect("skip" in wire).toBe(false);
  let inner = wire.deep as Record<string, unknown>;
  for (let i = 0; i < 80; i++) inner = inner.d as Record<string, unknown>;
  expect(inner).toEqual({ $bin: "CQ==" });
  expect(Object.getOwnPropertyNames(wire.own)).toEqual(["__proto__"]);
  const back = jsonCodec.decode(jsonCodec.encode(value)) as { r: { raw: Uint8Array }; own: object };
  expect([...back.r.raw]).toEqual([1, 2]);
  expect(Object.getPrototypeOf(back.own)).toBe(Object.prototype);
});

test("json codec decodes only a lone $bin string key as bytes", () => {
  const text =
    '{"a": {"$bin": "aGk="}, "b": {"$bin": "aGk=", "n": 1}, "c": {"$bin": 5}, "d": [{"$bin": ""}]}';
  const back = jsonCodec.decode(Buffer.from(text)) as Record<string, unknown>;
  expect(Buffer.from(back.a as Uint8Array).toString()).toBe("hi");
  expect(back.b).toEqual({ $bin: "aGk=", n: 1 });
  expect(back.c).toEqual({ $bin: 5 });
  expect((back.d as Uint8Array[])[0]).toBeInstanceOf(Uint8Array);
});
