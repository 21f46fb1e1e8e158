// PUBACK, PUBREC and PUBCOMP for messages the hub sent: they free in-flight slots in the session.

import type { Connection } from "../connection.ts";
import { PUBREL } from "../out-buffer.ts";

export function handlePuback(conn: Connection, packetId: number): void {
  if (!conn.session!.puback(packetId)) unknownId(conn, "puback", packetId);
}

export function handlePubrec(conn: Connection, packetId: number): void {
  if (!conn.session!.pubrec(packetId)) unknownId(conn, "pubrec", packetId);
  conn.reply().ack(PUBREL, packetId); // [MQTT-4.3.3-1]
}

export function handlePubcomp(conn: Connection, packetId: number): void {
  if (!conn.session!.pubcomp(packetId)) unknownId(conn, "pubcomp", packetId);
}

function unknownId(conn: Connection, packet: string, packetId: number): void {
  conn.hub.log.debug(`${packet}_packet_id_not_found`, { client_id: conn.clientId, packet_id: packetId });
}
