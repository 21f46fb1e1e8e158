// Splits a byte stream into whole MQTT control packets (fixed header + remaining length), copying
// each frame at most once so handlers may keep subarrays of it beyond the transport's callback.

import { ProtocolError } from "./protocol-error.ts";

/** Called for each whole frame; `bodyStart` is the offset of the variable header. False stops reading. */
export type FrameSink = (frame: Uint8Array, bodyStart: number) => boolean;

export class FrameReader {
  private pending: Uint8Array | null = null;

  constructor(private readonly maxPacketBytes: number) {}

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.pending?.length ?? 0;
  }

  /** Hands back the bytes held so far (the caller stopped reading and keeps them itself). */
  takeRest(): Uint8Array {
    const rest = this.pending ?? new Uint8Array(0);
    this.pending = null;
    return rest;
  }

  /** Keeps a chunk unparsed behind what is held (the caller is not reading now); `feed` takes it up. */
  keep(chunk: Uint8Array): void {
    if (this.pending === null) {
      this.pending = chunk.slice();
      return;
    }
    const joined = new Uint8Array(this.pending.length + chunk.length);
    joined.set(this.pending, 0);
    joined.set(chunk, this.pending.length);
    this.pending = joined;
  }

  feed(chunk: Uint8Array, sink: FrameSink): void {
    let buf = chunk;
    // Joined bytes are already ours: frames can be subarrays of them instead of copies.
    let owned = false;
    if (this.pending !== null) {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending, 0);
      joined.set(chunk, this.pending.length);
      buf = joined;
      owned = true;
      this.pending = null;
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
      const frame = owned ? buf.subarray(off, off + total) : buf.slice(off, off + total);
      off += total;
      if (!sink(frame, headerLen)) break;
    }
    if (off < end) this.pending = buf.slice(off);
  }
}
