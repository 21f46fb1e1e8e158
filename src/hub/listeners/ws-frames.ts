// RFC 6455 framing for the server side: a streaming decoder of client frames (payload bytes reach the
// sink as they arrive, so a large message is never held whole) and the encoder of frames we send.
// Only binary messages carry MQTT ([MQTT-6.0.0-1]); text is refused with 1003.

import { OpenEdgeError } from "../../lib/errors.ts";

export const Opcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** The close status codes we send (RFC 6455 §7.4.1). */
export const CloseCode = {
  normal: 1000,
  protocolError: 1002,
  unsupportedData: 1003,
  invalidPayload: 1007,
  tooBig: 1009,
} as const;

/** The largest control frame payload (§5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
/** 2 bytes, 8 of extended length, 4 of mask. */
const MAX_HEADER_BYTES = 14;

/** A client broke the protocol; the connection ends with `closeCode` (1002, 1003, 1007 or 1009). */
export class WsProtocolError extends OpenEdgeError {
  readonly closeCode: number;
  constructor(closeCode: number, message: string) {
    super("ERR_FRAME", message, { details: { closeCode } });
    this.closeCode = closeCode;
  }
}

export interface FrameSink {
  /** Payload bytes of binary messages in order; a frame may arrive in several pieces, or none if empty. */
  data(bytes: Uint8Array): void;
  ping(payload: Uint8Array): void;
  /** The client's close frame: its status code (undefined when it carried none) and reason. */
  close(code: number | undefined, reason: string): void;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const EMPTY = new Uint8Array(0);

/** Reads the frames of one client connection. */
export class FrameDecoder {
  private readonly header = new Uint8Array(MAX_HEADER_BYTES);
  private headerHave = 0;
  /** Header bytes of the current frame: 2 until the length field says more. */
  private headerNeed = 2;
  private inPayload = false;
  private opcode = 0;
  private fin = false;
  /** Where the masking key sits in `header`. */
  private maskAt = 0;
  /** Payload bytes of the current frame not read yet, and read so far (the mask's position). */
  private remaining = 0;
  private seen = 0;
  private control: Uint8Array | null = null;
  /** A binary message is open: only continuation (or control) frames may come until its final one. */
  private fragmented = false;
  private messageBytes = 0;
  private done = false;

  constructor(private readonly maxMessageBytes: number) {}

  /** Stopped for good: after a close frame or a violation, further bytes are ignored. */
  get closed(): boolean {
    return this.done;
  }

  /**
   * Reads `chunk`, unmasking its payload bytes in place (the chunk is the socket's read buffer, and
   * what `data` hands on is a view of it). Throws WsProtocolError at the first violation.
   */
  push(chunk: Uint8Array, sink: FrameSink): void {
    let at = 0;
    while (at < chunk.length && !this.done) {
      if (!this.inPayload) {
        const take = Math.min(this.headerNeed - this.headerHave, chunk.length - at);
        this.header.set(chunk.subarray(at, at + take), this.headerHave);
        this.headerHave += take;
        at += take;
        if (this.headerHave < this.headerNeed) return;
        if (this.headerNeed === 2) {
          this.headerNeed = this.checkFirstBytes();
          if (this.headerHave < this.headerNeed) continue;
        }
        this.startPayload();
        if (this.remaining === 0) this.endFrame(sink);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - at);
      const piece = chunk.subarray(at, at + take);
      this.unmask(piece);
      at += take;
      this.remaining -= take;
      if (this.opcode === Opcode.binary || this.opcode === Opcode.continuation) {
        sink.data(piece);
      } else {
        this.control?.set(piece, this.seen - take);
      }
      if (this.remaining === 0) this.endFrame(sink);
    }
  }

  /** Validates the first two bytes; returns the header's full length. */
  private checkFirstBytes(): number {
    const b0 = this.header[0] ?? 0;
    const b1 = this.header[1] ?? 0;
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    const len7 = b1 & 0x7f;
    if ((b0 & 0x70) !== 0) this.fail(CloseCode.protocolError, "reserved bits set without an extension");
    if ((b1 & 0x80) === 0) this.fail(CloseCode.protocolError, "client frame not masked");
    switch (this.opcode) {
      case Opcode.text:
        // [MQTT-6.0.0-1] MQTT travels in binary frames only
        this.fail(CloseCode.unsupportedData, "text frame on an MQTT websocket");
        break;
      case Opcode.binary:
        if (this.fragmented) this.fail(CloseCode.protocolError, "new message before the last one ended");
        break;
      case Opcode.continuation:
        if (!this.fragmented) this.fail(CloseCode.protocolError, "continuation frame without a message");
        break;
      case Opcode.close:
      case Opcode.ping:
      case Opcode.pong:
        if (!this.fin) this.fail(CloseCode.protocolError, "fragmented control frame");
        if (len7 > MAX_CONTROL_PAYLOAD)
          this.fail(CloseCode.protocolError, "control frame payload over 125 bytes");
        break;
      default:
        this.fail(CloseCode.protocolError, `unknown opcode 0x${this.opcode.toString(16)}`);
    }
    const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    this.maskAt = 2 + extended;
    return this.maskAt + 4;
  }

  /** The header is complete: reads the payload length and checks it against the message bound. */
  private startPayload(): void {
    const h = this.header;
    const len7 = (h[1] ?? 0) & 0x7f;
    let length = len7;
    if (len7 === 126) {
      length = ((h[2] ?? 0) << 8) | (h[3] ?? 0);
    } else if (len7 === 127) {
      const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
      const high = view.getUint32(2);
      if (high >= 0x8000_0000) this.fail(CloseCode.protocolError, "64-bit length with its top bit set");
      length = high * 2 ** 32 + view.getUint32(6);
    }
    const isData = this.opcode === Opcode.binary || this.opcode === Opcode.continuation;
    if (isData) {
      this.messageBytes += length;
      if (this.messageBytes > this.maxMessageBytes)
        this.fail(CloseCode.tooBig, `message over ${this.maxMessageBytes} bytes`);
    } else {
      this.control = new Uint8Array(length);
    }
    this.remaining = length;
    this.seen = 0;
    this.inPayload = true;
  }

  private endFrame(sink: FrameSink): void {
    this.inPayload = false;
    this.headerHave = 0;
    this.headerNeed = 2;
    if (this.opcode === Opcode.binary || this.opcode === Opcode.continuation) {
      this.fragmented = !this.fin;
      if (this.fin) this.messageBytes = 0;
      return;
    }
    const payload = this.control ?? EMPTY;
    this.control = null;
    switch (this.opcode) {
      case Opcode.ping:
        sink.ping(payload);
        return;
      case Opcode.close: {
        const { code, reason } = this.readClose(payload);
        this.done = true;
        sink.close(code, reason);
        return;
      }
      default:
      // a pong answers nothing: we send no pings (MQTT's keepalive watches the client)
    }
  }

  private readClose(payload: Uint8Array): { code: number | undefined; reason: string } {
    if (payload.length === 0) return { code: undefined, reason: "" };
    if (payload.length === 1) this.fail(CloseCode.protocolError, "close frame with a 1-byte payload");
    const code = ((payload[0] ?? 0) << 8) | (payload[1] ?? 0);
    if (!isValidCloseCode(code))
      this.fail(CloseCode.protocolError, `close code ${code} not allowed on the wire`);
    let reason = "";
    try {
      reason = utf8.decode(payload.subarray(2));
    } catch {
      this.fail(CloseCode.invalidPayload, "close reason not valid UTF-8");
    }
    return { code, reason };
  }

  private unmask(piece: Uint8Array): void {
    const h = this.header;
    const m = this.maskAt;
    const seen = this.seen;
    for (let i = 0; i < piece.length; i++) piece[i]! ^= h[m + ((seen + i) & 3)]!;
    this.seen = seen + piece.length;
  }

  private fail(closeCode: number, message: string): never {
    this.done = true;
    throw new WsProtocolError(closeCode, message);
  }
}

/** Codes a peer may send (§7.4): the defined ones, the later IANA ones, and the registered ranges. */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

export interface EncodeOptions {
  /** Default true; false leaves the message open for continuation frames. */
  fin?: boolean;
  /** A client's masking key (tests speak as the client); servers send unmasked frames (§5.1). */
  mask?: Uint8Array;
}

/** One frame, header and payload in one buffer (a single socket write; the payload is copied). */
export function encodeFrame(opcode: number, payload: Uint8Array, options: EncodeOptions = {}): Uint8Array {
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const maskBytes = options.mask === undefined ? 0 : 4;
  const headerBytes = 2 + extended + maskBytes;
  const out = new Uint8Array(headerBytes + length);
  out[0] = (options.fin === false ? 0 : 0x80) | opcode;
  const lengthBits = extended === 0 ? length : extended === 2 ? 126 : 127;
  out[1] = (maskBytes === 0 ? 0 : 0x80) | lengthBits;
  if (extended === 2) {
    out[2] = length >>> 8;
    out[3] = length & 0xff;
  } else if (extended === 8) {
    const view = new DataView(out.buffer);
    view.setUint32(2, Math.floor(length / 2 ** 32));
    view.setUint32(6, length >>> 0);
  }
  out.set(payload, headerBytes);
  if (options.mask !== undefined) {
    const mask = options.mask;
    out.set(mask.subarray(0, 4), 2 + extended);
    for (let i = 0; i < length; i++) out[headerBytes + i]! ^= mask[i & 3]!;
  }
  return out;
}

/** A close frame: no payload without a code (1005 is never sent), else the code and a short reason. */
export function encodeClose(code?: number, reason = "", options: EncodeOptions = {}): Uint8Array {
  if (code === undefined) return encodeFrame(Opcode.close, new Uint8Array(0), options);
  const text = new TextEncoder().encode(reason);
  // the reason is cut to fit the 125-byte control limit (it is for debugging only), never inside a
  // character: the peer must find valid UTF-8
  let keep = Math.min(text.length, MAX_CONTROL_PAYLOAD - 2);
  while (keep < text.length && keep > 0 && ((text[keep] ?? 0) & 0xc0) === 0x80) keep--;
  const payload = new Uint8Array(2 + keep);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(text.subarray(0, keep), 2);
  return encodeFrame(Opcode.close, payload, options);
}
