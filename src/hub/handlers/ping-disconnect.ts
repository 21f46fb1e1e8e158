// PINGREQ → PINGRESP [MQTT-3.12.4-1]; DISCONNECT ends the connection without its will [MQTT-3.14.4-3].

import type { Connection } from "../connection.ts";
import { ProtocolError } from "../protocol-error.ts";

function checkEmpty(frame: Uint8Array, bodyStart: number): void {
  if (((frame[0] as number) & 0x0f) !== 0) throw new ProtocolError("reserved flags"); // [MQTT-2.2.2-2]
  if (frame.length !== bodyStart) throw new ProtocolError("unexpected body");
}

export function handlePingreq(conn: Connection, frame: Uint8Array, bodyStart: number): void {
  checkEmpty(frame, bodyStart);
  conn.reply().pingresp();
}

export function handleDisconnect(conn: Connection, frame: Uint8Array, bodyStart: number): void {
  checkEmpty(frame, bodyStart);
  conn.will = null; // [MQTT-3.14.4-3]
  conn.terminate(false, "disconnect");
}
