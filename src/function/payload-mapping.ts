// OpenEdge's payload semantics, shared by the JavaScript runtime and tests: a payload becomes the
// handler's event (JSON when it parses, bytes otherwise) and a handler's result becomes the bytes to publish.

/** The handler's event: the payload JSON-decoded when it parses, else the bytes as a Buffer. */
export function eventOf(payload: Uint8Array): unknown {
  const buf = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (buf.length === 0) return buf;
  try {
    // fatal decoding: bytes that are not UTF-8 stay bytes even when they would "parse" after repair
    return JSON.parse(utf8.decode(buf));
  } catch {
    return buf;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The bytes to publish for a handler's result: object/array (and numbers, booleans) → JSON,
 * Buffer/Uint8Array/ArrayBuffer → as they are, string → UTF-8, null/undefined/empty → null (nothing).
 */
export function payloadOf(result: unknown): Uint8Array | null {
  if (result === null || result === undefined) return null;
  let bytes: Uint8Array;
  if (result instanceof Uint8Array) bytes = result;
  else if (result instanceof ArrayBuffer) bytes = new Uint8Array(result);
  else if (typeof result === "string") bytes = Buffer.from(result, "utf8");
  else {
    const text = JSON.stringify(result) as string | undefined;
    if (text === undefined) return null; // a function or symbol: nothing JSON can say
    bytes = Buffer.from(text, "utf8");
  }
  return bytes.length === 0 ? null : bytes;
}
