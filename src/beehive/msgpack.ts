// MessagePack for the plain values bus messages are made of (nil, booleans, numbers, strings, bytes,
// arrays, string-keyed maps), written and read here; anything else (extension types, Map, Date,
// BigInt, non-string map keys) goes to msgpackr, so the codec's results stay msgpackr's. The reason is
// speed: the executable cannot load msgpackr's native string extraction, and its pure-JS reader
// builds 16–64-byte strings with String.fromCharCode.apply, which costs ~11 µs to decode a function
// call message here against ~2 µs below (short strings repeat, so they come from a cache).

import { Packr } from "msgpackr";

// copyBuffers: decoded bytes must not alias the socket's read buffer, which is reused
const packr = new Packr({ useRecords: false, copyBuffers: true });

/** Thrown inside the fast paths to hand the whole value to msgpackr. */
const FALLBACK = Symbol("msgpack-fallback");
/** Deeper than this, msgpackr decides (its own limits and errors). */
const MAX_DEPTH = 100;

/** The writer's buffer past this is dropped after use: one large message must not pin it. */
const WRITER_KEEP_BYTES = 64 * 1024;

export function encodeMsgpack(value: unknown): Uint8Array {
  if (writer.busy) return packr.pack(value); // a getter that encodes, while we are encoding
  writer.busy = true;
  try {
    writer.pos = 0;
    writer.value(value, 0);
    return Uint8Array.prototype.slice.call(writer.buf, 0, writer.pos);
  } catch (error) {
    if (error !== FALLBACK) throw error;
    return packr.pack(value);
  } finally {
    writer.busy = false;
    if (writer.buf.length > WRITER_KEEP_BYTES) writer.reset();
  }
}

export function decodeMsgpack(body: Uint8Array): unknown {
  const reader = new Reader(
    body instanceof Buffer ? body : Buffer.from(body.buffer, body.byteOffset, body.length),
  );
  try {
    const value = reader.value(0);
    if (reader.pos !== body.length) throw FALLBACK; // msgpackr's say on trailing bytes
    return value;
  } catch (error) {
    if (error !== FALLBACK) throw error;
    return packr.unpack(body);
  }
}

/** Bun's Buffer (as Node's) has these without the encoding dispatch of write/toString. */
interface NativeUtf8Buffer extends Buffer {
  utf8Write(text: string, offset: number): number;
  utf8Slice(start: number, end: number): string;
}

class Writer {
  buf = Buffer.allocUnsafe(4096);
  view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  pos = 0;
  busy = false;

  reset(): void {
    this.buf = Buffer.allocUnsafe(4096);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  value(v: unknown, depth: number): void {
    if (typeof v === "string") this.string(v);
    else if (typeof v === "number") this.number(v);
    else if (typeof v === "boolean") this.byte(v ? 0xc3 : 0xc2);
    else if (v === null || v === undefined) this.byte(0xc0);
    else if (typeof v !== "object" || depth > MAX_DEPTH) throw FALLBACK;
    else if (v instanceof Uint8Array) this.bytes(v);
    else if (Array.isArray(v)) this.array(v, depth);
    else if (Object.getPrototypeOf(v) === Object.prototype) this.map(v as Record<string, unknown>, depth);
    else throw FALLBACK;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  private number(n: number): void {
    this.reserve(9);
    if (Number.isInteger(n) && n >= -2147483648 && n <= 4294967295 && !Object.is(n, -0)) {
      if (n >= 0) {
        if (n < 0x80) this.buf[this.pos++] = n;
        else if (n < 0x100) this.typed(0xcc, n, 1);
        else if (n < 0x10000) this.typed(0xcd, n, 2);
        else this.typed(0xce, n, 4);
      } else if (n >= -32) this.buf[this.pos++] = n & 0xff;
      else if (n >= -128) this.typed(0xd0, n, 1);
      else if (n >= -32768) this.typed(0xd1, n, 2);
      else this.typed(0xd2, n, 4);
      return;
    }
    // larger integers (millisecond timestamps) are exact as doubles
    this.buf[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, n);
    this.pos += 8;
  }

  /** A type byte and `n` big-endian in `width` bytes (negative `n` as two's complement). */
  private typed(type: number, n: number, width: 1 | 2 | 4): void {
    this.buf[this.pos++] = type;
    if (width === 1) this.buf[this.pos] = n & 0xff;
    else if (width === 2) this.view.setUint16(this.pos, n & 0xffff);
    else this.view.setUint32(this.pos, n >>> 0);
    this.pos += width;
  }

  private string(s: string): void {
    // the header is sized for the longest UTF-8 the string can have; any decoder takes str8 for short
    const most = s.length * 3;
    const head = most < 32 ? 1 : most < 0x100 ? 2 : most < 0x10000 ? 3 : 5;
    this.reserve(head + most);
    const length = (this.buf as NativeUtf8Buffer).utf8Write(s, this.pos + head);
    if (head === 1) this.buf[this.pos++] = 0xa0 | length;
    else if (head === 2) this.typed(0xd9, length, 1);
    else if (head === 3) this.typed(0xda, length, 2);
    else this.typed(0xdb, length, 4);
    this.pos += length;
  }

  private bytes(v: Uint8Array): void {
    const n = v.length;
    this.reserve(5 + n);
    if (n < 0x100) this.typed(0xc4, n, 1);
    else if (n < 0x10000) this.typed(0xc5, n, 2);
    else this.typed(0xc6, n, 4);
    this.buf.set(v, this.pos);
    this.pos += n;
  }

  private array(v: unknown[], depth: number): void {
    this.header(v.length, 0x90, 0xdc);
    for (const item of v) this.value(item, depth + 1);
  }

  private map(v: Record<string, unknown>, depth: number): void {
    // undefined values are left out, as JSON leaves them out
    let n = 0;
    for (const key in v) if (Object.hasOwn(v, key) && v[key] !== undefined) n++;
    this.header(n, 0x80, 0xde);
    for (const key in v) {
      if (!Object.hasOwn(v, key)) continue;
      const item = v[key];
      if (item === undefined) continue;
      this.string(key);
      this.value(item, depth + 1);
    }
  }

  /** A fixmap/fixarray (`fix`) or a 16/32-bit count (`wide`, `wide + 1`). */
  private header(n: number, fix: number, wide: number): void {
    this.reserve(5);
    if (n < 16) this.buf[this.pos++] = fix | n;
    else if (n < 0x10000) this.typed(wide, n, 2);
    else this.typed(wide + 1, n, 4);
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }
}

const writer = new Writer();

/** Short strings (map keys, names, topics) repeat from message to message: decoded once, kept here. */
const CACHE_SLOTS = 1024;
const CACHE_MAX_BYTES = 24;
const cachedBytes: (Uint8Array | undefined)[] = new Array(CACHE_SLOTS);
const cachedStrings: (string | undefined)[] = new Array(CACHE_SLOTS);

class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly src: Buffer) {
    this.view = new DataView(src.buffer, src.byteOffset, src.length);
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw FALLBACK;
    const s = this.src;
    const b = s[this.take(1)] as number;
    if (b < 0x80) return b;
    if (b < 0x90) return this.map(b & 0x0f, depth);
    if (b < 0xa0) return this.array(b & 0x0f, depth);
    if (b < 0xc0) return this.string(b & 0x1f);
    if (b >= 0xe0) return b - 0x100;
    const v = this.view;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bytes(s[this.take(1)] as number);
      case 0xc5:
        return this.bytes(v.getUint16(this.take(2)));
      case 0xc6:
        return this.bytes(v.getUint32(this.take(4)));
      case 0xca:
        return v.getFloat32(this.take(4));
      case 0xcb:
        return v.getFloat64(this.take(8));
      case 0xcc:
        return s[this.take(1)];
      case 0xcd:
        return v.getUint16(this.take(2));
      case 0xce:
        return v.getUint32(this.take(4));
      case 0xd0:
        return v.getInt8(this.take(1));
      case 0xd1:
        return v.getInt16(this.take(2));
      case 0xd2:
        return v.getInt32(this.take(4));
      case 0xd9:
        return this.string(s[this.take(1)] as number);
      case 0xda:
        return this.string(v.getUint16(this.take(2)));
      case 0xdb:
        return this.string(v.getUint32(this.take(4)));
      case 0xdc:
        return this.array(v.getUint16(this.take(2)), depth);
      case 0xdd:
        return this.array(v.getUint32(this.take(4)), depth);
      case 0xde:
        return this.map(v.getUint16(this.take(2)), depth);
      case 0xdf:
        return this.map(v.getUint32(this.take(4)), depth);
      default:
        throw FALLBACK; // 64-bit integers, extension types, the unused 0xc1
    }
  }

  /** Moves past `n` bytes, returning where they start; past the end is msgpackr's error to give. */
  private take(n: number): number {
    const at = this.pos;
    if (at + n > this.src.length) throw FALLBACK;
    this.pos = at + n;
    return at;
  }

  private string(n: number): string {
    const s = this.src;
    const start = this.take(n);
    const end = start + n;
    if (n > CACHE_MAX_BYTES) return (s as NativeUtf8Buffer).utf8Slice(start, end);
    let h = n;
    for (let i = start; i < end; i++) h = (Math.imul(h, 31) + (s[i] as number)) | 0;
    const slot = h & (CACHE_SLOTS - 1);
    const known = cachedBytes[slot];
    if (known !== undefined && known.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (known[i] !== s[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return cachedStrings[slot] as string;
    }
    const text = (s as NativeUtf8Buffer).utf8Slice(start, end);
    cachedBytes[slot] = Uint8Array.prototype.slice.call(s, start, end); // a copy: `s` is reused
    cachedStrings[slot] = text;
    return text;
  }

  private bytes(n: number): Buffer {
    const start = this.take(n);
    return Buffer.from(this.src.subarray(start, start + n)); // a copy: the source is reused
  }

  private array(n: number, depth: number): unknown[] {
    if (n > this.src.length - this.pos) throw FALLBACK; // each item takes a byte at least
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  private map(n: number, depth: number): Record<string, unknown> {
    if (n * 2 > this.src.length - this.pos) throw FALLBACK;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = this.value(depth + 1);
      if (typeof key !== "string" || key === "__proto__") throw FALLBACK;
      out[key] = this.value(depth + 1);
    }
    return out;
  }
}
