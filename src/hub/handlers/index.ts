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

export function dispatch(conn: Connection, frame: Uint8Array, bodyStart: number): void {
  const type = (frame[0] as number) >> 4;
  if (conn.state === "new") {
    if (type !== P.CONNECT) throw new ProtocolError("first packet must be CONNECT"); // [MQTT-3.1.0-1]
    handleConnect(conn, frame, bodyStart);
    return;
  }
  switch (type) {
    case P.PUBLISH:
      handlePublish(conn, frame, bodyStart);
      return;
    case P.PUBACK:
      handlePuback(conn, frame, bodyStart);
      return;
    case P.PUBREC:
      handlePubrec(conn, frame, bodyStart);
      return;
    case P.PUBREL:
      handlePubrel(conn, frame, bodyStart);
      return;
    case P.PUBCOMP:
      handlePubcomp(conn, frame, bodyStart);
      return;
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
