// UNSUBSCRIBE: remove each filter, then UNSUBACK even when none existed [MQTT-3.10.4-4] [MQTT-3.10.4-5].

import type { Connection } from "../connection.ts";
import { UNSUBACK } from "../out-buffer.ts";

export function handleUnsubscribe(conn: Connection, frame: Uint8Array): void {
  const packet = conn.hub.decoder.unsubscribe(frame); // flags 0010 [MQTT-3.10.1-1]
  for (const filter of packet.unsubscriptions) conn.hub.unsubscribe(conn.session!, filter);
  conn.reply().ack(UNSUBACK, packet.messageId ?? 0);
}
