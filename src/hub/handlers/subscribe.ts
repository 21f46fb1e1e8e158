// SUBSCRIBE: validate and authorise each filter (0x80 for a refused one), SUBACK, then retained
// messages for every granted filter.

import type { Connection } from "../connection.ts";
import { topicFilterError } from "../topic-validation.ts";

export const SUBACK_FAILURE = 0x80;

export function handleSubscribe(conn: Connection, frame: Uint8Array): void {
  const hub = conn.hub;
  const session = conn.session!;
  // Flags 0010 [MQTT-3.8.1-1], at least one filter [MQTT-3.8.3-3], QoS ≤ 2 [MQTT-3-8.3-4].
  const packet = hub.decoder.subscribe(frame);
  const granted: Array<{ filter: string; qos: 0 | 1 | 2 }> = [];
  const codes = packet.subscriptions.map(({ topic: filter, qos }) => {
    const error = topicFilterError(filter, hub.limits);
    if (error !== null) {
      hub.log.debug("subscribe_invalid_filter", { client_id: conn.clientId, filter, error });
      return SUBACK_FAILURE;
    }
    if (!conn.principal!.canSubscribe(filter)) {
      hub.log.debug("subscribe_denied", { client_id: conn.clientId, filter });
      return SUBACK_FAILURE;
    }
    hub.subscribe(session, filter, qos); // replaces an identical filter [MQTT-3.8.4-3]
    granted.push({ filter, qos });
    return qos;
  });
  conn.reply().suback(packet.messageId ?? 0, codes); // [MQTT-3.8.4-1] [MQTT-3.8.4-2] same id
  for (const { filter, qos } of granted) hub.sendRetained(session, filter, qos); // [MQTT-3.3.1-6]
}
