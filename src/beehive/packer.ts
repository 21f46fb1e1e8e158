// Wire framing of the socket context: a 12-byte header (magic "beeh", version "v1", body codec as a
// big-endian uint16, body length as a big-endian uint32) then the body. Encoder buffer + streaming decoder.

import { OpenEdgeError } from "../lib/errors.ts";
import { type Codec, codecById } from "./codec.ts";

export const HEADER_BYTES = 12;
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
const MAGIC = [0x62, 0x65, 0x65, 0x68] as const; // "beeh"
const VERSION = [0x76, 0x31] as const; // "v1"

export type FrameRejection = "bad_magic" | "bad_version" | "unknown_codec" | "too_large" | "bad_body";

export function frameError(reason: FrameRejection, message: string, details: Record<string, unknown> = {}) {
  return new OpenEdgeError("ERR_FRAME", message, { details: { reason, ...details } });
}

/** Writes a frame header at `offset` of `target`. */
export function writeHeader(target: Uint8Array, offset: number, codecId: number, bodyLength: number): void {
  target[offset] = MAGIC[0];
  target[offset + 1] = MAGIC[1];
  target[offset + 2] = MAGIC[2];
  target[offset + 3] = MAGIC[3];
  target[offset + 4] = VERSION[0];
  target[offset + 5] = VERSION[1];
  target[offset + 6] = (codecId >>> 8) & 0xff;
  target[offset + 7] = codecId & 0xff;
  target[offset + 8] = (bodyLength >>> 24) & 0xff;
  target[offset + 9] = (bodyLength >>> 16) & 0xff;
  target[offset + 10] = (bodyLength >>> 8) & 0xff;
  target[offset + 11] = bodyLength & 0xff;
}

/** One whole frame: header + encoded body. */
export function encodeFrame(codec: Codec, value: unknown): Uint8Array {
  const body = codec.encode(value);
  const frame = new Uint8Array(HEADER_BYTES + body.length);
  writeHeader(frame, 0, codec.id, body.length);
  frame.set(body, HEADER_BYTES);
  return frame;
}

/**
 * Frames waiting to be written: one growable buffer, so a burst of frames goes out in one write.
 * `pending()` is what is not yet written; `consumed(n)` after the socket took n bytes.
 */
export class FrameBuffer {
  private buf: Buffer;
  private start = 0;
  private end = 0;

  constructor(
    private readonly initialBytes = 64 * 1024,
    private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
  ) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get size(): number {
    return this.end - this.start;
  }

  /**
   * Encodes `value` as a frame at the end of the buffer (`binaryIn`: see Codec.encode); throws
   * ERR_FRAME (too_large) rather than send the peer a frame it must refuse.
   */
  append(codec: Codec, value: unknown, binaryIn?: unknown): void {
    if (codec.text !== undefined) {
      // straight into the buffer: no intermediate Buffer per frame
      const text = codec.text.stringify(value, binaryIn);
      this.checkSize(text.length); // a UTF-8 body is never shorter than its UTF-16 length
      this.reserve(HEADER_BYTES + text.length * 3);
      const length = this.buf.write(text, this.end + HEADER_BYTES, "utf8");
      this.checkSize(length);
      writeHeader(this.buf, this.end, codec.id, length);
      this.end += HEADER_BYTES + length;
      return;
    }
    const body = codec.encode(value, binaryIn);
    this.checkSize(body.length);
    this.reserve(HEADER_BYTES + body.length);
    writeHeader(this.buf, this.end, codec.id, body.length);
    this.buf.set(body, this.end + HEADER_BYTES);
    this.end += HEADER_BYTES + body.length;
  }

  private checkSize(bytes: number): void {
    if (bytes > this.maxFrameBytes) {
      throw frameError("too_large", `frame body of ${bytes} bytes exceeds ${this.maxFrameBytes}`, {
        bytes,
        max: this.maxFrameBytes,
      });
    }
  }

  /** The bytes not yet written (a view, valid until the next append). */
  pending(): { buffer: Buffer; offset: number; length: number } {
    return { buffer: this.buf, offset: this.start, length: this.end - this.start };
  }

  consumed(bytes: number): void {
    this.start += bytes;
    if (this.start < this.end) return;
    this.start = 0;
    this.end = 0;
    // a burst may have grown the buffer a lot; do not keep it forever
    if (this.buf.length > 4 * this.initialBytes) this.buf = Buffer.allocUnsafe(this.initialBytes);
  }

  clear(): void {
    this.start = 0;
    this.end = 0;
  }

  private reserve(bytes: number): void {
    if (this.end + bytes <= this.buf.length) return;
    const live = this.end - this.start;
    if (this.start > 0 && live + bytes <= this.buf.length) {
      this.buf.copy(this.buf, 0, this.start, this.end);
    } else {
      let size = this.buf.length * 2;
      while (size < live + bytes) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
    }
    this.start = 0;
    this.end = live;
  }
}

export type FrameHandler = (value: unknown, codec: Codec) => void;

/**
 * Streaming decoder: feed it socket chunks in any split; it calls `onFrame` per whole frame. A bad
 * header is rejected as soon as its 12 bytes are in (an oversize body is never buffered). After it
 * throws (ERR_FRAME with details.reason) the stream is unusable: the connection must be closed.
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private pendingLen = 0;

  constructor(
    private readonly onFrame: FrameHandler,
    private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
  ) {}

  /** Bytes held of an incomplete frame. */
  get buffered(): number {
    return this.pendingLen;
  }

  push(chunk: Uint8Array): void {
    let off = 0;
    if (this.pendingLen > 0) {
      off = this.fill(chunk, HEADER_BYTES - this.pendingLen, 0);
      if (this.pendingLen < HEADER_BYTES) return;
      const total = this.frameLength(this.pending, 0);
      off += this.fill(chunk, total - this.pendingLen, off);
      if (this.pendingLen < total) return;
      this.pendingLen = 0;
      this.emit(this.pending, 0, total);
    }
    const length = chunk.length;
    while (length - off >= HEADER_BYTES) {
      const total = this.frameLength(chunk, off);
      if (length - off < total) break;
      this.emit(chunk, off, total);
      off += total;
    }
    if (off < length) {
      this.fill(chunk, length - off, off);
      if (this.pendingLen >= HEADER_BYTES) this.frameLength(this.pending, 0);
    }
  }

  /** Copies up to `want` bytes of chunk[from..] into the pending buffer; returns how many. */
  private fill(chunk: Uint8Array, want: number, from: number): number {
    const n = Math.min(want, chunk.length - from);
    if (n <= 0) return 0;
    if (this.pendingLen + n > this.pending.length) {
      const next = Buffer.allocUnsafe(Math.max(this.pendingLen + n, this.pending.length * 2, 1024));
      next.set(this.pending.subarray(0, this.pendingLen));
      this.pending = next;
    }
    this.pending.set(chunk.subarray(from, from + n), this.pendingLen);
    this.pendingLen += n;
    return n;
  }

  /** Validates the header at `off` and returns the whole frame's length. */
  private frameLength(b: Uint8Array, off: number): number {
    if (
      b[off] !== MAGIC[0] ||
      b[off + 1] !== MAGIC[1] ||
      b[off + 2] !== MAGIC[2] ||
      b[off + 3] !== MAGIC[3]
    ) {
      throw frameError("bad_magic", 'frame does not start with magic "beeh"', {
        got: Buffer.from(b.subarray(off, off + 4)).toString("hex"),
      });
    }
    if (b[off + 4] !== VERSION[0] || b[off + 5] !== VERSION[1]) {
      throw frameError("bad_version", "unsupported frame version", {
        got: Buffer.from(b.subarray(off + 4, off + 6)).toString("hex"),
      });
    }
    const codecId = (b[off + 6]! << 8) | b[off + 7]!;
    if (codecById(codecId) === undefined) {
      throw frameError("unknown_codec", `unknown frame codec ${codecId}`, { codec: codecId });
    }
    const bodyLength = b[off + 8]! * 0x1000000 + ((b[off + 9]! << 16) | (b[off + 10]! << 8) | b[off + 11]!);
    if (bodyLength > this.maxFrameBytes) {
      throw frameError("too_large", `frame body of ${bodyLength} bytes exceeds ${this.maxFrameBytes}`, {
        bytes: bodyLength,
        max: this.maxFrameBytes,
      });
    }
    return HEADER_BYTES + bodyLength;
  }

  private emit(b: Uint8Array, off: number, total: number): void {
    const codec = codecById((b[off + 6]! << 8) | b[off + 7]!) as Codec;
    let value: unknown;
    try {
      if (codec.text !== undefined && b instanceof Buffer) {
        // invalid UTF-8 becomes U+FFFD here; what JSON cannot parse is still refused below
        value = codec.text.parse(b.toString("utf8", off + HEADER_BYTES, off + total));
      } else {
        value = codec.decode(b.subarray(off + HEADER_BYTES, off + total));
      }
    } catch (cause) {
      throw frameError("bad_body", `undecodable ${codec.name} frame body`, {
        codec: codec.name,
        error: cause instanceof Error ? cause.message : String(cause),
      });
    }
    this.onFrame(value, codec);
  }
}
