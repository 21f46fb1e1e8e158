// Frame body codecs: JSON (binary-safe: a Uint8Array travels as {"$bin": base64}) and MessagePack
// (plain maps so both ends need no shared structures; see msgpack.ts). Decoded binary is a Buffer.

import { decodeMsgpack, encodeMsgpack } from "./msgpack.ts";

export const CODEC_JSON = 0;
export const CODEC_MSGPACK = 1;
export type CodecId = typeof CODEC_JSON | typeof CODEC_MSGPACK;
export type CodecName = "json" | "msgpack";

export interface Codec {
  readonly id: CodecId;
  readonly name: CodecName;
  /** `binaryIn`: the only part of `value` that may hold bytes (a message's content), to skip a scan. */
  encode(value: unknown, binaryIn?: unknown): Uint8Array;
  decode(body: Uint8Array): unknown;
  /** Text codecs also work on strings, so frames are written into and read from buffers directly. */
  readonly text?: {
    stringify(value: unknown, binaryIn?: unknown): string;
    parse(text: string): unknown;
  };
}

/** Whether `value` holds a Uint8Array or ArrayBuffer anywhere (what the JSON codec must tag). */
export function hasBinary(value: unknown): boolean {
  return containsBinary(value, 0);
}

/** Reserved tag: an object whose only key is `$bin` (a string) decodes as bytes under the JSON codec. */
export const BINARY_TAG = "$bin";

const textDecoder = new TextDecoder("utf-8", { fatal: true });

function containsBinary(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return true;
  if (depth > 64) return true; // let the slow path (and JSON's own cycle check) handle it
  if (Array.isArray(value)) {
    for (const item of value) if (containsBinary(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (containsBinary((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

function toBase64(bytes: Uint8Array | ArrayBuffer): string {
  const buf =
    bytes instanceof ArrayBuffer
      ? Buffer.from(bytes)
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString("base64");
}

// `this[key]` is the value before Buffer#toJSON ran, so a Buffer is seen as bytes here
function binaryReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array || raw instanceof ArrayBuffer) return { [BINARY_TAG]: toBase64(raw) };
  return value;
}

/** Thrown by `tagged` where only the replacer gets JSON's semantics right (class instances, depth). */
const USE_REPLACER = Symbol("use-replacer");

/**
 * `value` with its bytes as {"$bin": base64}, in one pass that copies only the arrays and plain objects
 * on the way to them (what holds none is returned as it is): a replacer is a call from
 * JSON.stringify per value, ~4 µs for a function call message.
 */
function tagged(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return { [BINARY_TAG]: toBase64(value) };
  if (depth > 64) throw USE_REPLACER;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = tagged(value[i], depth + 1);
      if (item === value[i]) continue;
      copy ??= value.slice();
      copy[i] = item;
    }
    return copy ?? value;
  }
  const plain = Object.getPrototypeOf(value) === Object.prototype;
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const item = tagged(record[key], depth + 1);
    if (item === record[key]) continue;
    // a class instance, or an own key named __proto__ (JSON.parse makes them) that assignment would
    // take for the prototype
    if (!plain || key === "__proto__") throw USE_REPLACER;
    copy ??= { ...record };
    copy[key] = item;
  }
  return copy ?? value;
}

/** JSON.parse's result with each {"$bin": base64} (that key alone) turned into bytes, in place. */
function untagged(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = untagged(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  const tag = record[BINARY_TAG];
  if (typeof tag === "string" && Object.keys(record).length === 1) return Buffer.from(tag, "base64");
  for (const key in record) record[key] = untagged(record[key]);
  return value;
}

function jsonStringify(value: unknown, binaryIn: unknown = value): string {
  let text: string | undefined;
  if (!containsBinary(binaryIn, 0)) text = JSON.stringify(value);
  else {
    try {
      text = JSON.stringify(tagged(value, 0));
    } catch (error) {
      if (error !== USE_REPLACER) throw error;
      text = JSON.stringify(value, binaryReplacer);
    }
  }
  return text ?? "null";
}

function jsonParse(text: string): unknown {
  // the walk only where a tag is present at all
  return text.includes(`"${BINARY_TAG}"`) ? untagged(JSON.parse(text)) : JSON.parse(text);
}

export const jsonCodec: Codec = {
  id: CODEC_JSON,
  name: "json",
  encode(value: unknown, binaryIn?: unknown): Uint8Array {
    return Buffer.from(jsonStringify(value, binaryIn), "utf8");
  },
  decode(body: Uint8Array): unknown {
    return jsonParse(textDecoder.decode(body));
  },
  text: { stringify: jsonStringify, parse: jsonParse },
};

export const msgpackCodec: Codec = {
  id: CODEC_MSGPACK,
  name: "msgpack",
  encode: (value: unknown) => encodeMsgpack(value),
  decode: decodeMsgpack,
};

export function codecById(id: number): Codec | undefined {
  if (id === CODEC_JSON) return jsonCodec;
  if (id === CODEC_MSGPACK) return msgpackCodec;
  return undefined;
}

export function codecByName(name: string): Codec | undefined {
  if (name === "json") return jsonCodec;
  if (name === "msgpack" || name === "messagepack") return msgpackCodec;
  return undefined;
}
