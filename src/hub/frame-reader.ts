// Splits a byte stream into whole MQTT control packets (fixed header + remaining length). Frames are
// offsets into the chunks the transport handed over, which are the core's to keep (see ConnectionSink):
// nothing is copied and no view is made per frame. What must outlive the turn copies its own bytes
// (see keepMessage), so a kept message never pins a whole read chunk.

import { ProtocolError } from "./protocol-error.ts";

/** Takes the frames a reader finds (an object rather than a callback: no closure per reader). */
export interface FrameSink {
  /**
   * Each whole frame, `buf[start, end)`; its variable header starts at `bodyStart` (offsets into
   * `buf`). False stops reading.
   */
  frame(buf: Uint8Array, start: number, bodyStart: number, end: number): boolean;
}

export class FrameReader {
  /** Bytes of ours not parsed yet: `pending` from `pendingAt` on (a reader that stops early — out of
   * budget, held — goes on from an offset instead of copying the rest each time). */
  private pending: Uint8Array | null = null;
  private pendingAt = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.pending === null ? 0 : this.pending.length - this.pendingAt;
  }

  /** Hands back the bytes held so far (the caller stopped reading and keeps them itself). */
  takeRest(): Uint8Array {
    const rest = this.pending?.subarray(this.pendingAt) ?? new Uint8Array(0);
    this.pending = null;
    this.pendingAt = 0;
    return rest;
  }

  /** Keeps a chunk unparsed behind what is held (the caller is not reading now); `feed` takes it up. */
  keep(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.pending === null) {
      this.pending = chunk;
      this.pendingAt = 0;
      return;
    }
    this.pending = this.join(chunk);
    this.pendingAt = 0;
  }

  private join(chunk: Uint8Array): Uint8Array {
    const rest = (this.pending as Uint8Array).subarray(this.pendingAt);
    if (chunk.length === 0) return rest;
    const joined = new Uint8Array(rest.length + chunk.length);
    joined.set(rest, 0);
    joined.set(chunk, rest.length);
    return joined;
  }

  feed(chunk: Uint8Array, sink: FrameSink): void {
    let buf = chunk;
    if (this.pending !== null) {
      buf = this.join(chunk);
      this.pending = null;
      this.pendingAt = 0;
    }
    let off = 0;
    const end = buf.length;
    while (off < end) {
      if (end - off < 2) break;
      let len = 0;
      let mult = 1;
      let i = off + 1;
      let complete = false;
      for (let n = 0; n < 4; n++, i++) {
        if (i >= end) break;
        const b = buf[i] as number;
        len += (b & 0x7f) * mult;
        mult *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
        if (n === 3) throw new ProtocolError("malformed remaining length");
      }
      if (!complete) break;
      const headerLen = i - off;
      if (len > this.maxPacketBytes) throw new ProtocolError("packet too large", { bytes: len });
      const total = headerLen + len;
      if (end - off < total) break;
      const start = off;
      off += total;
      if (!sink.frame(buf, start, start + headerLen, off)) break;
    }
    if (off < end) {
      this.pending = buf;
      this.pendingAt = off;
    }
  }
}
