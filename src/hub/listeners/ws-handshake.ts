// The server side of the RFC 6455 opening handshake: finds the end of the HTTP/1.1 request head, and
// answers it with 101 Switching Protocols (accept key, MQTT subprotocol) or with the status that says
// what was wrong. Pure: bytes in, an answer out; the connection writes it.

import { createHash } from "node:crypto";

/** Largest request head we read; a longer one is answered 431. */
export const MAX_HEAD_BYTES = 8 * 1024;
/** MQTT over WebSocket's names ([MQTT-6.0.0-3]), and 3.1's. */
export const MQTT_SUBPROTOCOLS: readonly string[] = ["mqtt", "mqttv3.1"];

const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const HEAD_END = [13, 10, 13, 10];
/** A nonce of 16 bytes in base64 (§4.1): 22 characters and "==". */
const KEY_RE = /^[A-Za-z0-9+/]{22}==$/;
const REQUEST_LINE_RE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(\d)\.(\d)$/;
const HEADER_RE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

export interface UpgradeOptions {
  /** The listener's path; only it is served. */
  path: string;
  /** Subprotocols we speak, in no order: the client's first one we know is chosen. */
  protocols?: readonly string[];
}

export interface Upgrade {
  ok: true;
  /** The 101 response to write before any frame. */
  response: string;
  protocol?: string;
}

export interface Refusal {
  ok: false;
  status: number;
  reason: string;
  /** The error response; the connection closes after it. */
  response: string;
}

export type UpgradeAnswer = Upgrade | Refusal;

/** Index just past the head's blank line, or -1 while it has not arrived; searches from `from`. */
export function headEnd(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(0, from); i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i + 4;
  }
  return -1;
}

/** Where to resume `headEnd` after more bytes arrive (the blank line may straddle chunks). */
export function resumeFrom(length: number): number {
  return Math.max(0, length - (HEAD_END.length - 1));
}

/** The answer to a complete request head (up to and including its blank line). */
export function answerUpgrade(head: Uint8Array, options: UpgradeOptions): UpgradeAnswer {
  if (head.length > MAX_HEAD_BYTES) return refuse(431, "request head too large");
  const lines = Buffer.from(head.buffer, head.byteOffset, head.length).toString("latin1").split("\r\n");
  const request = REQUEST_LINE_RE.exec(lines[0] ?? "");
  if (request === null) return refuse(400, "malformed request line");
  const [, method, target = "", major = "0", minor = "0"] = request;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const header = HEADER_RE.exec(line);
    if (header === null) return refuse(400, "malformed header line");
    const name = (header[1] ?? "").toLowerCase();
    const value = header[2] ?? "";
    const before = headers.get(name);
    // a repeated header is one comma-separated list (RFC 9110 §5.3)
    headers.set(name, before === undefined ? value : `${before}, ${value}`);
  }
  if (pathOf(target) !== options.path) return refuse(404, "not found");
  if (method !== "GET") return refuse(405, "websocket upgrade is a GET", { Allow: "GET" });
  if (Number(major) * 10 + Number(minor) < 11) return refuse(400, "websocket upgrade needs HTTP/1.1");
  const upgrade = tokens(headers.get("upgrade"));
  const connection = tokens(headers.get("connection"));
  if (!upgrade.includes("websocket") && !connection.includes("upgrade"))
    return refuse(426, "websocket upgrade expected", { Upgrade: "websocket" });
  if (!upgrade.includes("websocket")) return refuse(400, "Upgrade header without websocket");
  if (!connection.includes("upgrade")) return refuse(400, "Connection header without upgrade");
  if (!headers.has("host")) return refuse(400, "missing Host header");
  if (headers.get("sec-websocket-version") !== "13")
    return refuse(426, "unsupported Sec-WebSocket-Version", { "Sec-WebSocket-Version": "13" });
  const key = headers.get("sec-websocket-key");
  if (key === undefined) return refuse(400, "missing Sec-WebSocket-Key");
  if (!KEY_RE.test(key)) return refuse(400, "Sec-WebSocket-Key is not 16 bytes in base64");
  const offered = list(headers.get("sec-websocket-protocol"));
  const supported = options.protocols ?? MQTT_SUBPROTOCOLS;
  const protocol = offered.find((p) => supported.includes(p));
  if (offered.length > 0 && protocol === undefined) return refuse(400, "unsupported websocket subprotocol");
  const response = [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${acceptKey(key)}`,
    ...(protocol === undefined ? [] : [`Sec-WebSocket-Protocol: ${protocol}`]),
    "",
    "",
  ].join("\r\n");
  return protocol === undefined ? { ok: true, response } : { ok: true, response, protocol };
}

/** Sec-WebSocket-Accept for a client's key (§4.2.2): base64 of SHA-1 over the key and the GUID. */
export function acceptKey(key: string): string {
  return createHash("sha1")
    .update(key + ACCEPT_GUID)
    .digest("base64");
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
};

/** A refusal with its response: a short text body, and the connection closes after it. */
export function refuse(status: number, reason: string, extra: Record<string, string> = {}): Refusal {
  const body = `${reason}\n`;
  const response = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}`,
    ...Object.entries(extra).map(([name, value]) => `${name}: ${value}`),
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    "",
    body,
  ].join("\r\n");
  return { ok: false, status, reason, response };
}

/** The path of an origin-form (`/mqtt?x`) or absolute-form (`http://h/mqtt`) target, normalised. */
function pathOf(target: string): string | undefined {
  try {
    return new URL(target, "http://localhost").pathname;
  } catch {
    return undefined;
  }
}

/** A header's comma-separated values, as given. */
function list(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** A header's tokens, compared case-insensitively (Upgrade, Connection). */
function tokens(value: string | undefined): string[] {
  return list(value).map((v) => v.toLowerCase());
}
