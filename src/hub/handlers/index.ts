// Dispatch of one whole frame to its packet handler, with the connection-state checks in one place.

import type { Connection } from "../connection.ts";
import * as P from "../packets.ts";
import { ProtocolError } from "../protocol-error.ts";
import { handlePuback, handlePubcomp, handlePubrec } from "./acks.ts";
import { handleConnect } from "./connect.ts";
import { handleDisconnect, handlePingreq } from "./ping-disconnect.ts";
import { handlePublish, handlePubrel } from "./publish.ts";
import { handleSubscribe } from "./subscribe.ts";
import { handleUnsubscribe } from "./unsubscribe.ts";

/** The frame `buf[start, end)`, its variable header at `bodyStart` (see FrameSink). */
export function dispatch(
  conn: Connection,
  buf: Uint8Array,
  start: number,
  bodyStart: number,
  end: number,
): void {
  const type = (buf[start] as number) >> 4;
  // the per-message packets read the chunk in place; the others get a view of their own frame
  switch (type) {
    case P.PUBLISH:
      if (conn.state === "new") break;
      handlePublish(conn, buf, start, bodyStart, end);
      return;
    case P.PUBACK:
      if (conn.state === "new") break;
      handlePuback(conn, P.decodeAck(buf, start, bodyStart, end));
      return;
    case P.PUBREC:
      if (conn.state === "new") break;
      handlePubrec(conn, P.decodeAck(buf, start, bodyStart, end));
      return;
    case P.PUBREL:
      if (conn.state === "new") break;
      handlePubrel(conn, P.decodeAck(buf, start, bodyStart, end)); // [MQTT-3.6.1-1]
      return;
    case P.PUBCOMP:
      if (conn.state === "new") break;
      handlePubcomp(conn, P.decodeAck(buf, start, bodyStart, end));
      return;
  }
  dispatchFrame(conn, type, buf.subarray(start, end), bodyStart - start);
}

function dispatchFrame(conn: Connection, type: number, frame: Uint8Array, bodyStart: number): void {
  if (conn.state === "new") {
    if (type !== P.CONNECT) throw new ProtocolError("first packet must be CONNECT"); // [MQTT-3.1.0-1]
    handleConnect(conn, frame, bodyStart);
    return;
  }
  switch (type) {
    case P.SUBSCRIBE:
      handleSubscribe(conn, frame);
      return;
    case P.UNSUBSCRIBE:
      handleUnsubscribe(conn, frame);
      return;
    case P.PINGREQ:
      handlePingreq(conn, frame, bodyStart);
      return;
    case P.DISCONNECT:
      handleDisconnect(conn, frame, bodyStart);
      return;
    case P.CONNECT:
      throw new ProtocolError("second CONNECT"); // [MQTT-3.1.0-2]
    default:
      throw new ProtocolError("unexpected packet type", { type }); // CONNACK, SUBACK, … from a client
  }
}
