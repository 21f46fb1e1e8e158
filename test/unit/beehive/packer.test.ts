import { describe, expect, test } from "bun:test";
import {
  buildMessage,
  type Codec,
  encodeFrame,
  FrameDecoder,
  HEADER_BYTES,
  jsonCodec,
  msgpackCodec,
} from "../../../src/beehive/index.ts";
import { FrameBuffer } from "../../../src/beehive/packer.ts";
import { isOpenEdgeError } from "../../../src/lib/errors.ts";

function collect(max?: number) {
  const frames: { value: unknown; codec: string }[] = [];
  const decoder = new FrameDecoder((value, codec) => frames.push({ value, codec: codec.name }), max);
  return { frames, decoder };
}

function rejection(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    if (isOpenEdgeError(error, "ERR_FRAME")) return error.details.reason as string;
    throw error;
  }
  return undefined;
}

describe("frame header", () => {
  test("is magic beeh, version v1, codec uint16 BE, length uint32 BE", () => {
    const frame = encodeFrame(msgpackCodec, { a: 1 });
    const body = msgpackCodec.encode({ a: 1 });
    expect(Buffer.from(frame.subarray(0, 6)).toString("ascii")).toBe("beehv1");
    expect(frame[6]).toBe(0);
    expect(frame[7]).toBe(1);
    expect(Buffer.from(frame).readUInt32BE(8)).toBe(body.length);
    expect(frame.length).toBe(HEADER_BYTES + body.length);
    expect(encodeFrame(jsonCodec, 1)[7]).toBe(0);
  });
});

describe.each([jsonCodec, msgpackCodec].map((c) => [c.name, c] as [string, Codec]))(
  "%s frames",
  (_n, codec) => {
    const values = [
      buildMessage({
        source: "a",
        destination: "b",
        operation: "insert",
        resource: "device",
        content: "x".repeat(300),
      }),
      { k: "ack", n: "m", s: 7 },
      [1, 2, 3],
      { bin: new Uint8Array([0, 255, 128]) },
    ];
    const stream = Buffer.concat(values.map((v) => encodeFrame(codec, v)));

    test("many frames in one chunk", () => {
      const { frames, decoder } = collect();
      decoder.push(stream);
      expect(frames.map((f) => f.value)).toEqual(values.map((v) => codec.decode(codec.encode(v))));
      expect(frames.every((f) => f.codec === codec.name)).toBe(true);
      expect(decoder.buffered).toBe(0);
    });

    test("every split point, and byte by byte", () => {
      const expected = values.map((v) => codec.decode(codec.encode(v)));
      for (let cut = 1; cut < stream.length; cut += 3) {
        const { frames, decoder } = collect();
        decoder.push(stream.subarray(0, cut));
        decoder.push(stream.subarray(cut));
        expect(frames.map((f) => f.value)).toEqual(expected);
      }
      const { frames, decoder } = collect();
      for (let i = 0; i < stream.length; i++) decoder.push(stream.subarray(i, i + 1));
      expect(frames.map((f) => f.value)).toEqual(expected);
    });

    test("a reused read buffer does not corrupt decoded values", () => {
      const { frames, decoder } = collect();
      const chunk = Buffer.from(stream);
      const half = Math.floor(chunk.length / 2);
      decoder.push(chunk.subarray(0, half));
      const rest = Buffer.from(chunk.subarray(half));
      chunk.fill(0);
      decoder.push(rest);
      expect(frames.map((f) => f.value)).toEqual(values.map((v) => codec.decode(codec.encode(v))));
    });
  },
);

describe("frame rejection", () => {
  test("bad magic", () => {
    const frame = encodeFrame(jsonCodec, 1);
    frame[0] = 0x58;
    expect(rejection(() => collect().decoder.push(frame))).toBe("bad_magic");
  });

  test("bad version", () => {
    const frame = encodeFrame(jsonCodec, 1);
    frame[5] = 0x32; // "v2"
    expect(rejection(() => collect().decoder.push(frame))).toBe("bad_version");
  });

  test("unknown codec", () => {
    const frame = encodeFrame(jsonCodec, 1);
    frame[7] = 9;
    expect(rejection(() => collect().decoder.push(frame))).toBe("unknown_codec");
  });

  test("oversize body is refused from its header alone, before the body arrives", () => {
    const header = encodeFrame(jsonCodec, 1).subarray(0, HEADER_BYTES);
    Buffer.from(header.buffer, header.byteOffset).writeUInt32BE(1025, 8);
    const { decoder } = collect(1024);
    expect(rejection(() => decoder.push(header))).toBe("too_large");
    // split header: the check still fires as soon as the 12 bytes are in
    const second = collect(1024).decoder;
    second.push(header.subarray(0, 5));
    expect(rejection(() => second.push(header.subarray(5)))).toBe("too_large");
  });

  test("a body at exactly the maximum is accepted", () => {
    const value = "y".repeat(1022); // JSON adds the two quotes
    const { frames, decoder } = collect(1024);
    decoder.push(encodeFrame(jsonCodec, value));
    expect(frames[0]?.value).toBe(value);
  });

  test("undecodable bodies, for each codec", () => {
    for (const codec of [jsonCodec, msgpackCodec]) {
      const body = Buffer.from([0x7b, 0xc1, 0xc1, 0x22]);
      const frame = Buffer.alloc(HEADER_BYTES + body.length);
      frame.set(encodeFrame(codec, 0).subarray(0, 8));
      frame.writeUInt32BE(body.length, 8);
      frame.set(body, HEADER_BYTES);
      expect(rejection(() => collect().decoder.push(frame))).toBe("bad_body");
    }
  });

  test("valid frames before a bad one are still delivered", () => {
    const { frames, decoder } = collect();
    const bad = Buffer.from("GET / HTTP/1.1\r\n\r\n");
    expect(rejection(() => decoder.push(Buffer.concat([encodeFrame(jsonCodec, "ok"), bad])))).toBe(
      "bad_magic",
    );
    expect(frames.map((f) => f.value)).toEqual(["ok"]);
  });
});

describe("frame buffer", () => {
  test("appends frames back to back, survives partial consumption and growth", () => {
    const out = new FrameBuffer(32);
    const { frames, decoder } = collect();
    for (let i = 0; i < 100; i++) {
      out.append(i % 2 === 0 ? jsonCodec : msgpackCodec, { i, pad: "z".repeat(i) });
      if (i % 7 === 0) {
        const { buffer, offset, length } = out.pending();
        const part = Math.ceil(length / 2);
        decoder.push(Buffer.from(buffer.subarray(offset, offset + part)));
        out.consumed(part);
      }
    }
    const { buffer, offset, length } = out.pending();
    decoder.push(Buffer.from(buffer.subarray(offset, offset + length)));
    out.consumed(length);
    expect(out.size).toBe(0);
    expect(frames.map((f) => (f.value as { i: number }).i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  test("refuses to encode a frame over the maximum", () => {
    const out = new FrameBuffer(64, 100);
    expect(rejection(() => out.append(jsonCodec, "x".repeat(200)))).toBe("too_large");
    expect(out.size).toBe(0);
  });
});
