// RFC 6455 frames as the hub's server reads and writes them: masked client frames of every length
// encoding, fed whole or byte by byte; fragmented messages with control frames between fragments; and
// each violation closing with the code §7.4.1 names.

import { describe, expect, test } from "bun:test";
import {
  CloseCode,
  encodeClose,
  encodeFrame,
  FrameDecoder,
  type FrameSink,
  isValidCloseCode,
  Opcode,
  WsProtocolError,
} from "../../../src/hub/listeners/ws-frames.ts";

const MASK = Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]);

/** What a decoder told its sink, data joined per run. */
class Recorder implements FrameSink {
  readonly events: Array<
    | { kind: "data"; bytes: number[] }
    | { kind: "ping"; bytes: number[] }
    | { kind: "close"; code?: number; reason: string }
  > = [];
  data(bytes: Uint8Array): void {
    const last = this.events.at(-1);
    if (last?.kind === "data") last.bytes.push(...bytes);
    else this.events.push({ kind: "data", bytes: [...bytes] });
  }
  ping(payload: Uint8Array): void {
    this.events.push({ kind: "ping", bytes: [...payload] });
  }
  close(code: number | undefined, reason: string): void {
    this.events.push(code === undefined ? { kind: "close", reason } : { kind: "close", code, reason });
  }
  get joined(): number[] {
    return this.events.flatMap((e) => (e.kind === "data" ? e.bytes : []));
  }
}

/** A client frame (masked), as a fresh buffer: the decoder unmasks in place. */
function client(opcode: number, payload: Uint8Array | number[], fin = true): Uint8Array {
  return encodeFrame(opcode, Uint8Array.from(payload), { fin, mask: MASK });
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function feed(bytes: Uint8Array, options: { max?: number; piece?: number } = {}): Recorder {
  const decoder = new FrameDecoder(options.max ?? 1 << 20);
  const sink = new Recorder();
  const piece = options.piece ?? bytes.length;
  for (let at = 0; at < bytes.length; at += piece) decoder.push(bytes.slice(at, at + piece), sink);
  return sink;
}

/** The close code a decoder fails with on `bytes`. */
function failure(bytes: Uint8Array, max = 1 << 20): { code: number; message: string } {
  try {
    feed(bytes, { max });
  } catch (err) {
    if (err instanceof WsProtocolError) return { code: err.closeCode, message: err.message };
    throw err;
  }
  throw new Error("decoder accepted the input");
}

const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) % 256);

describe("encoding (server → client)", () => {
  test("a server frame is unmasked: FIN + binary, 7-bit length, payload as is", () => {
    expect([...encodeFrame(Opcode.binary, Uint8Array.from([0xc0, 0x00]))]).toEqual([0x82, 0x02, 0xc0, 0x00]);
  });

  test("125 bytes fit the 7-bit length; 126 take the 16-bit one; 65536 the 64-bit one", () => {
    expect([...encodeFrame(Opcode.binary, pattern(125)).subarray(0, 2)]).toEqual([0x82, 125]);
    expect([...encodeFrame(Opcode.binary, pattern(126)).subarray(0, 4)]).toEqual([0x82, 126, 0x00, 126]);
    expect([...encodeFrame(Opcode.binary, pattern(65_535)).subarray(0, 4)]).toEqual([0x82, 126, 0xff, 0xff]);
    const big = encodeFrame(Opcode.binary, pattern(65_536));
    expect([...big.subarray(0, 10)]).toEqual([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(big.length).toBe(10 + 65_536);
    expect([...big.subarray(10, 14)]).toEqual([...pattern(4)]);
  });

  test("RFC 6455 §5.7's masked 'Hello' is what a masked encode gives", () => {
    const hello = new TextEncoder().encode("Hello");
    const frame = encodeFrame(Opcode.text, hello, { mask: Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]) });
    expect([...frame]).toEqual([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  });

  test("a non-final frame has FIN clear", () => {
    expect(encodeFrame(Opcode.binary, pattern(1), { fin: false })[0]).toBe(0x02);
  });

  test("close frames: code and reason; none without a code; the reason cut to 123 bytes, never mid-character", () => {
    expect([...encodeClose(CloseCode.normal)]).toEqual([0x88, 0x02, 0x03, 0xe8]);
    expect([...encodeClose()]).toEqual([0x88, 0x00]);
    const long = encodeClose(CloseCode.protocolError, "é".repeat(100));
    expect(long[1]).toBeLessThanOrEqual(125);
    expect(() => new TextDecoder("utf-8", { fatal: true }).decode(long.subarray(4))).not.toThrow();
    expect(long.length).toBe(2 + 2 + 122);
  });
});

describe("decoding client frames", () => {
  test("masked binary frames of 7-, 16- and 64-bit lengths come out unmasked", () => {
    for (const n of [0, 1, 125, 126, 65_535, 65_536, 70_000]) {
      const sink = feed(client(Opcode.binary, pattern(n)));
      expect(sink.joined.length).toBe(n);
      expect(Buffer.from(sink.joined).equals(Buffer.from(pattern(n)))).toBe(true);
    }
  });

  test("a frame fed one byte at a time (headers and masks split anywhere) decodes the same", () => {
    const bytes = join(client(Opcode.binary, pattern(300)), client(Opcode.binary, pattern(3)));
    expect(feed(bytes, { piece: 1 }).joined).toEqual([...pattern(300), ...pattern(3)]);
  });

  test("several frames in one read", () => {
    const bytes = join(client(Opcode.binary, [1, 2]), client(Opcode.binary, [3]), client(Opcode.binary, [4]));
    expect(feed(bytes).joined).toEqual([1, 2, 3, 4]);
  });

  test("a fragmented message: binary + continuations, with a ping between fragments (§5.4)", () => {
    const bytes = join(
      client(Opcode.binary, [1, 2], false),
      client(Opcode.ping, [9]),
      client(Opcode.continuation, [3], false),
      client(Opcode.continuation, [4], true),
      client(Opcode.binary, [5]),
    );
    const sink = feed(bytes, { piece: 3 });
    expect(sink.events).toEqual([
      { kind: "data", bytes: [1, 2] },
      { kind: "ping", bytes: [9] },
      { kind: "data", bytes: [3, 4, 5] },
    ]);
  });

  test("ping payloads reach the sink whole; pongs are ignored", () => {
    const sink = feed(
      join(client(Opcode.ping, pattern(125)), client(Opcode.pong, [1]), client(Opcode.ping, [])),
      {
        piece: 7,
      },
    );
    expect(sink.events).toEqual([
      { kind: "ping", bytes: [...pattern(125)] },
      { kind: "ping", bytes: [] },
    ]);
  });

  test("a close frame gives its code and reason, and nothing after it is read", () => {
    const sink = feed(join(encodeClose(1001, "bye", { mask: MASK }), client(Opcode.binary, [1])));
    expect(sink.events).toEqual([{ kind: "close", code: 1001, reason: "bye" }]);
  });

  test("an empty close frame has no code", () => {
    expect(feed(encodeClose(undefined, "", { mask: MASK })).events).toEqual([{ kind: "close", reason: "" }]);
  });

  test("a message may reach the bound exactly", () => {
    const bytes = join(client(Opcode.binary, pattern(6), false), client(Opcode.continuation, pattern(4)));
    expect(feed(bytes, { max: 10 }).joined.length).toBe(10);
  });
});

describe("violations close the connection with the right code", () => {
  test("an unmasked client frame: 1002 (§5.1)", () => {
    expect(failure(encodeFrame(Opcode.binary, pattern(3)))).toEqual({
      code: CloseCode.protocolError,
      message: "client frame not masked",
    });
  });

  test("a text frame: 1003, MQTT is binary only [MQTT-6.0.0-1]", () => {
    expect(failure(client(Opcode.text, [0x61])).code).toBe(CloseCode.unsupportedData);
  });

  test("reserved bits set without an extension: 1002", () => {
    const frame = client(Opcode.binary, [1]);
    frame[0] = (frame[0] ?? 0) | 0x40;
    expect(failure(frame)).toEqual({ code: 1002, message: "reserved bits set without an extension" });
  });

  test("reserved opcodes: 1002", () => {
    for (const op of [0x3, 0x7, 0xb, 0xf])
      expect(failure(client(op, [])).message).toContain("unknown opcode");
  });

  test("a continuation without a message, and a new message inside a fragmented one: 1002", () => {
    expect(failure(client(Opcode.continuation, [1])).message).toBe("continuation frame without a message");
    expect(failure(join(client(Opcode.binary, [1], false), client(Opcode.binary, [2]))).message).toBe(
      "new message before the last one ended",
    );
  });

  test("a fragmented control frame, and one over 125 bytes: 1002 (§5.5)", () => {
    expect(failure(client(Opcode.ping, [1], false)).message).toBe("fragmented control frame");
    expect(failure(client(Opcode.ping, pattern(126))).message).toBe("control frame payload over 125 bytes");
  });

  test("a 64-bit length with its top bit set: 1002 (§5.2)", () => {
    const frame = Uint8Array.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, ...MASK]);
    expect(failure(frame).message).toBe("64-bit length with its top bit set");
  });

  test("a frame over the bound: 1009 as soon as its header says so", () => {
    const header = client(Opcode.binary, pattern(65_536)).subarray(0, 14);
    expect(failure(header, 65_535)).toEqual({ code: CloseCode.tooBig, message: "message over 65535 bytes" });
  });

  test("fragments adding up past the bound: 1009", () => {
    const bytes = join(client(Opcode.binary, pattern(6), false), client(Opcode.continuation, pattern(5)));
    expect(failure(bytes, 10).code).toBe(CloseCode.tooBig);
  });

  test("close frames: a 1-byte payload, a code never sent on the wire, a reason not in UTF-8", () => {
    expect(failure(client(Opcode.close, [0x03])).code).toBe(CloseCode.protocolError);
    for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000])
      expect(failure(client(Opcode.close, [code >> 8, code & 0xff])).code).toBe(CloseCode.protocolError);
    expect(failure(client(Opcode.close, [0x03, 0xe8, 0xc3, 0x28])).code).toBe(CloseCode.invalidPayload);
  });

  test("after a violation the decoder reads nothing more", () => {
    const decoder = new FrameDecoder(100);
    const sink = new Recorder();
    expect(() => decoder.push(encodeFrame(Opcode.binary, pattern(1)), sink)).toThrow(WsProtocolError);
    expect(decoder.closed).toBe(true);
    decoder.push(client(Opcode.binary, [1]), sink);
    expect(sink.events).toEqual([]);
  });

  test("the error is typed: ERR_FRAME with the close code in its details", () => {
    const err = new WsProtocolError(1002, "x");
    expect(err.code).toBe("ERR_FRAME");
    expect(err.details).toEqual({ closeCode: 1002 });
  });

  test("valid close codes (§7.4)", () => {
    expect([1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999].every(isValidCloseCode)).toBe(true);
    expect([0, 999, 1004, 1005, 1006, 1015, 2999, 5000].some(isValidCloseCode)).toBe(false);
  });
});
