// Decoding of whole frames: PUBLISH and the two-byte acknowledgements on a fast path straight from
// the buffer; CONNECT, SUBSCRIBE and UNSUBSCRIBE through mqtt-packet's parser after our own checks.

import {
  type IConnectPacket,
  type ISubscribePacket,
  type IUnsubscribePacket,
  parser as mqttParser,
  type Packet,
} from "mqtt-packet";
import { ProtocolError } from "./protocol-error.ts";

export const CONNECT = 1;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const UNSUBSCRIBE = 10;
export const PINGREQ = 12;
export const DISCONNECT = 14;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A received PUBLISH, as offsets into the read chunk it came in (no views made per message). */
export interface PublishPacket {
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  packetId: number;
  /** The read chunk: the frame is `buf[frameStart, end)` and its payload `buf[payloadStart, end)`. */
  buf: Uint8Array;
  frameStart: number;
  payloadStart: number;
  end: number;
  topicBytes: Uint8Array;
}

/** An MQTT UTF-8 string: well-formed and without U+0000 [MQTT-1.5.3-1] [MQTT-1.5.3-2]. */
export function decodeUtf8(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === 0) throw new ProtocolError("NUL in string"); // [MQTT-1.5.3-2]
    if (b > 0x7f) ascii = false;
  }
  if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtocolError("ill-formed UTF-8"); // [MQTT-1.5.3-1]
  }
}

/**
 * The topic a connection last published to, decoded, validated and authorised once: most clients
 * publish to a few topics over and over, and comparing a few bytes is cheaper than decoding them.
 */
export interface TopicMemo {
  /** A copy, not a view: a view would keep the whole read chunk alive. */
  readonly bytes: Uint8Array;
  readonly topic: string;
  readonly allowed: boolean;
}

function sameBytes(frame: Uint8Array, off: number, length: number, bytes: Uint8Array): boolean {
  if (bytes.length !== length) return false;
  for (let i = 0; i < length; i++) if (frame[off + i] !== bytes[i]) return false;
  return true;
}

/**
 * Decodes the frame `buf[start, end)` (variable header at `bodyStart`) into `out`, the caller's reused
 * packet: nothing is allocated per message for the collector. With `memo`: a topic equal to the memo's
 * is not decoded again (topicBytes is then the memo's).
 */
export function decodePublish(
  buf: Uint8Array,
  start: number,
  bodyStart: number,
  end: number,
  memo: TopicMemo | null,
  out: PublishPacket,
): void {
  const first = buf[start] as number;
  const qos = (first >> 1) & 3;
  if (qos === 3) throw new ProtocolError("publish with QoS 3"); // [MQTT-3.3.1-4]
  const dup = (first & 0x08) !== 0;
  if (qos === 0 && dup) throw new ProtocolError("DUP set on QoS 0"); // [MQTT-3.3.1-2]
  let off = bodyStart;
  if (end < off + 2) throw new ProtocolError("publish too short");
  const topicLen = ((buf[off] as number) << 8) | (buf[off + 1] as number);
  off += 2;
  if (end < off + topicLen + (qos > 0 ? 2 : 0)) throw new ProtocolError("publish too short");
  let topicBytes: Uint8Array;
  let topic: string;
  if (memo && sameBytes(buf, off, topicLen, memo.bytes)) {
    topicBytes = memo.bytes;
    topic = memo.topic;
  } else {
    topicBytes = buf.subarray(off, off + topicLen);
    topic = decodeUtf8(topicBytes);
  }
  off += topicLen;
  let packetId = 0;
  if (qos > 0) {
    packetId = ((buf[off] as number) << 8) | (buf[off + 1] as number);
    if (packetId === 0) throw new ProtocolError("packet id 0"); // [MQTT-2.3.1-1]
    off += 2;
  }
  out.topic = topic;
  out.qos = qos as 0 | 1 | 2;
  out.retain = (first & 1) !== 0;
  out.dup = dup;
  out.packetId = packetId;
  out.buf = buf;
  out.frameStart = start;
  out.payloadStart = off;
  out.end = end;
  out.topicBytes = topicBytes;
}

/**
 * PUBACK, PUBREC, PUBREL, PUBCOMP in `buf[start, end)`: fixed flags [MQTT-2.2.2-1] and a two-byte
 * packet id.
 */
export function decodeAck(buf: Uint8Array, start: number, bodyStart: number, end: number): number {
  const type = (buf[start] as number) >> 4;
  const flags = (buf[start] as number) & 0x0f;
  if (flags !== (type === PUBREL ? 2 : 0)) throw new ProtocolError("reserved flags"); // [MQTT-3.6.1-1]
  if (end - bodyStart !== 2) throw new ProtocolError("bad ack length");
  return ((buf[bodyStart] as number) << 8) | (buf[bodyStart + 1] as number);
}

export type ConnectCheck = { ok: true } | { ok: false; returnCode: 1 } | { ok: false; close: string };

/** Protocol name and level, read before the rest so an unknown level gets CONNACK 1 [MQTT-3.1.2-2]. */
export function checkProtocol(frame: Uint8Array, bodyStart: number): ConnectCheck {
  if (((frame[0] as number) & 0x0f) !== 0) return { ok: false, close: "reserved flags" };
  const nameLen = ((frame[bodyStart] as number) << 8) | (frame[bodyStart + 1] as number);
  if (frame.length < bodyStart + 3 + nameLen) return { ok: false, close: "connect too short" };
  const name = String.fromCharCode(...frame.subarray(bodyStart + 2, bodyStart + 2 + nameLen));
  const level = frame[bodyStart + 2 + nameLen] as number;
  if (name === "MQTT") return level === 4 ? { ok: true } : { ok: false, returnCode: 1 };
  if (name === "MQIsdp") return level === 3 ? { ok: true } : { ok: false, returnCode: 1 };
  return { ok: false, close: "unknown protocol name" }; // [MQTT-3.1.2-1]
}

/** mqtt-packet's parser fed one whole frame at a time, so it answers synchronously. */
export class SlowPathDecoder {
  private parser = this.make();
  private packet: Packet | null = null;
  private error: Error | null = null;

  private make(): ReturnType<typeof mqttParser> {
    const p = mqttParser({ protocolVersion: 4 });
    p.on("packet", (packet: Packet) => {
      this.packet = packet;
    });
    p.on("error", (err: Error) => {
      this.error = err;
    });
    return p;
  }

  decode(frame: Uint8Array): Packet {
    this.packet = null;
    this.error = null;
    this.parser.parse(Buffer.from(frame.buffer, frame.byteOffset, frame.length));
    const packet = this.packet as Packet | null;
    const error = this.error as Error | null;
    if (error !== null || packet === null) {
      this.parser = this.make(); // a parser that failed mid-frame is not trusted again
      throw new ProtocolError(error?.message ?? "incomplete packet");
    }
    return packet;
  }

  connect(frame: Uint8Array): IConnectPacket {
    const p = this.decode(frame);
    if (p.cmd !== "connect") throw new ProtocolError("expected connect");
    return p;
  }

  subscribe(frame: Uint8Array): ISubscribePacket {
    const p = this.decode(frame);
    if (p.cmd !== "subscribe") throw new ProtocolError("expected subscribe");
    return p;
  }

  unsubscribe(frame: Uint8Array): IUnsubscribePacket {
    const p = this.decode(frame);
    if (p.cmd !== "unsubscribe") throw new ProtocolError("expected unsubscribe");
    return p;
  }
}
