// PUBLISH from a client (validate, de-duplicate QoS 2, authorise, route, acknowledge) and the PUBREL
// that ends an incoming QoS 2 exchange.

import type { Connection } from "../connection.ts";
import { PUBACK, PUBCOMP, PUBREC } from "../out-buffer.ts";
import { decodePublish, type PublishPacket } from "../packets.ts";
import { ProtocolError } from "../protocol-error.ts";
import { ReceivedMessage } from "../received-message.ts";
import { topicNameError } from "../topic-validation.ts";

/**
 * The PUBLISH being handled, decoded and published as one object for all (handlers run one at a
 * time): whatever keeps the message keeps `keepMessage`'s copy.
 */
const p = new ReceivedMessage();

/** The frame `buf[start, end)`, its variable header at `bodyStart`. */
export function handlePublish(
  conn: Connection,
  buf: Uint8Array,
  start: number,
  bodyStart: number,
  end: number,
): void {
  try {
    handle(conn, buf, start, bodyStart, end);
  } finally {
    p.clear(); // let go of the read chunk
  }
}

function handle(conn: Connection, buf: Uint8Array, start: number, bodyStart: number, end: number): void {
  const hub = conn.hub;
  const session = conn.session!;
  let memo = conn.lastTopic;
  decodePublish(buf, start, bodyStart, end, memo, p);
  hub.counters.messagesReceived++;
  if (memo === null || p.topicBytes !== memo.bytes) {
    const topicError = topicNameError(p.topic, hub.limits);
    if (topicError !== null) throw new ProtocolError(`bad topic: ${topicError}`); // [MQTT-3.3.2-2]
    memo = { bytes: p.topicBytes.slice(), topic: p.topic, allowed: hub.canPublish(conn.principal!, p.topic) };
    conn.lastTopic = memo;
  }
  // [MQTT-4.3.3-2] a QoS 2 message still awaiting PUBREL is not delivered again.
  if (p.qos === 2 && session.incomingQos2.has(p.packetId)) {
    acknowledge(conn, p);
    return;
  }
  const bytes = p.end - p.payloadStart;
  if (bytes > hub.limits.maxMessageBytes) {
    hub.counters.dropped++;
    hub.log.debug("publish_too_large", { client_id: conn.clientId, topic: p.topic, bytes });
  } else if (!memo.allowed) {
    // Unauthorised: dropped, but QoS > 0 still acknowledged so the client does not retry forever.
    hub.counters.publishDenied++;
    hub.log.debug("publish_denied", { client_id: conn.clientId, topic: p.topic });
  } else {
    hub.publish(p, conn);
  }
  acknowledge(conn, p);
}

/** Acknowledges after routing; the bytes leave only after this turn's persistence commit. */
function acknowledge(conn: Connection, p: PublishPacket): void {
  if (p.qos === 1) {
    conn.reply().ack(PUBACK, p.packetId); // [MQTT-4.3.2-2]
  } else if (p.qos === 2) {
    const session = conn.session!;
    if (!session.incomingQos2.has(p.packetId)) {
      session.addIncomingQos2(p.packetId);
      if (!session.clean) conn.hub.persistence.setIncomingQos2(session.clientId, p.packetId, true);
    }
    conn.reply().ack(PUBREC, p.packetId); // [MQTT-4.3.3-2]
  }
}

export function handlePubrel(conn: Connection, packetId: number): void {
  const session = conn.session!;
  if (session.deleteIncomingQos2(packetId) && !session.clean) {
    conn.hub.persistence.setIncomingQos2(session.clientId, packetId, false);
  }
  conn.reply().ack(PUBCOMP, packetId); // [MQTT-4.3.3-2] also for an id already released
}
