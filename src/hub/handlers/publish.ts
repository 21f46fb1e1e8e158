// PUBLISH from a client (validate, de-duplicate QoS 2, authorise, route, acknowledge) and the PUBREL
// that ends an incoming QoS 2 exchange.

import type { Connection } from "../connection.ts";
import { PUBACK, PUBCOMP, PUBREC } from "../out-buffer.ts";
import { decodeAck, decodePublish, type PublishPacket } from "../packets.ts";
import { ProtocolError } from "../protocol-error.ts";
import type { HubMessage } from "../session.ts";
import { topicNameError } from "../topic-validation.ts";

const NOTHING = new Uint8Array(0);

/** The PUBLISH being handled: one object for all (handlers run one at a time, and keep nothing of it). */
const p: PublishPacket = {
  topic: "",
  payload: NOTHING,
  qos: 0,
  retain: false,
  dup: false,
  packetId: 0,
  frame: NOTHING,
  topicBytes: NOTHING,
};

export function handlePublish(conn: Connection, frame: Uint8Array, bodyStart: number): void {
  try {
    handle(conn, frame, bodyStart);
  } finally {
    // let go of the read chunk the views point into
    p.frame = NOTHING;
    p.payload = NOTHING;
    p.topicBytes = NOTHING;
  }
}

function handle(conn: Connection, frame: Uint8Array, bodyStart: number): void {
  const hub = conn.hub;
  const session = conn.session!;
  let memo = conn.lastTopic;
  decodePublish(frame, bodyStart, memo, p);
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
  if (p.payload.length > hub.limits.maxMessageBytes) {
    hub.counters.dropped++;
    hub.log.debug("publish_too_large", { client_id: conn.clientId, topic: p.topic, bytes: p.payload.length });
  } else if (!memo.allowed) {
    // Unauthorised: dropped, but QoS > 0 still acknowledged so the client does not retry forever.
    hub.counters.publishDenied++;
    hub.log.debug("publish_denied", { client_id: conn.clientId, topic: p.topic });
  } else {
    hub.publish(messageOf(p), conn);
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

function messageOf(p: PublishPacket): HubMessage {
  const msg: HubMessage = {
    topic: p.topic,
    payload: p.payload,
    qos: p.qos,
    retain: p.retain,
    topicBytes: p.topicBytes,
  };
  // The received bytes are already the QoS 0, RETAIN 0 frame every QoS 0 subscriber gets.
  if (p.qos === 0 && !p.retain) msg.qos0Frame = p.frame;
  return msg;
}

export function handlePubrel(conn: Connection, frame: Uint8Array, bodyStart: number): void {
  const packetId = decodeAck(frame, bodyStart); // [MQTT-3.6.1-1]
  const session = conn.session!;
  if (session.deleteIncomingQos2(packetId) && !session.clean) {
    conn.hub.persistence.setIncomingQos2(session.clientId, packetId, false);
  }
  conn.reply().ack(PUBCOMP, packetId); // [MQTT-4.3.3-2] also for an id already released
}
