// A client's outgoing bytes for one event-loop turn: packets are encoded straight into one growing
// buffer, handed to the transport in a single write when the hub flushes the turn.

const encoder = new TextEncoder();

const EMPTY = new Uint8Array(0);

export class OutBuffer {
  private buf: Uint8Array = EMPTY;
  private len = 0;
  /** The last turn's size: the next buffer starts there, so busy clients do not regrow each turn
   * and idle ones (a CONNACK, a PINGRESP) do not hold — or churn — kilobytes each. */
  private hint: number;

  constructor(initial = 64) {
    this.hint = initial;
  }

  get length(): number {
    return this.len;
  }

  /** The bytes written so far, handed over (the buffer starts afresh: the transport may keep them). */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.len);
    this.hint = this.len;
    this.buf = EMPTY;
    this.len = 0;
    return out;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = Math.max(64, this.hint, this.buf.length * 2);
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len), 0);
    this.buf = next;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  /** `bytes[start, end)`: small ranges byte by byte, as a view to copy from would be garbage. */
  rawRange(bytes: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.reserve(n);
    if (n > 256) {
      this.buf.set(bytes.subarray(start, end), this.len);
    } else {
      const b = this.buf;
      for (let i = start, at = this.len; i < end; i++, at++) b[at] = bytes[i] as number;
    }
    this.len += n;
  }

  /** PUBLISH with an already encoded topic. */
  publish(
    topic: Uint8Array,
    payload: Uint8Array,
    qos: number,
    retain: boolean,
    dup: boolean,
    packetId: number,
  ): void {
    const remaining = 2 + topic.length + (qos > 0 ? 2 : 0) + payload.length;
    this.reserve(5 + remaining);
    const b = this.buf;
    b[this.len++] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 1 : 0);
    this.varint(remaining);
    b[this.len++] = topic.length >> 8;
    b[this.len++] = topic.length & 0xff;
    b.set(topic, this.len);
    this.len += topic.length;
    if (qos > 0) {
      b[this.len++] = packetId >> 8;
      b[this.len++] = packetId & 0xff;
    }
    b.set(payload, this.len);
    this.len += payload.length;
  }

  /** PUBACK (0x40), PUBREC (0x50), PUBREL (0x62), PUBCOMP (0x70), UNSUBACK (0xb0). */
  ack(firstByte: number, packetId: number): void {
    this.reserve(4);
    const b = this.buf;
    b[this.len++] = firstByte;
    b[this.len++] = 2;
    b[this.len++] = packetId >> 8;
    b[this.len++] = packetId & 0xff;
  }

  connack(sessionPresent: boolean, returnCode: number): void {
    this.raw(Uint8Array.of(0x20, 2, sessionPresent ? 1 : 0, returnCode));
  }

  suback(packetId: number, codes: number[]): void {
    this.reserve(7 + codes.length);
    this.buf[this.len++] = 0x90;
    this.varint(2 + codes.length);
    this.buf[this.len++] = packetId >> 8;
    this.buf[this.len++] = packetId & 0xff;
    for (const c of codes) this.buf[this.len++] = c;
  }

  pingresp(): void {
    this.raw(PINGRESP);
  }

  private varint(n: number): void {
    do {
      let byte = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) byte |= 0x80;
      this.buf[this.len++] = byte;
    } while (n > 0);
  }
}

const PINGRESP = Uint8Array.of(0xd0, 0);

export const PUBACK = 0x40;
export const PUBREC = 0x50;
export const PUBREL = 0x62;
export const PUBCOMP = 0x70;
export const UNSUBACK = 0xb0;

export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}
