// CONNECT: protocol checks, client id rules, authentication, session takeover, CONNACK with
// SessionPresent, then the session's pending messages.

import type { IConnectPacket } from "mqtt-packet";
import type { Connection } from "../connection.ts";
import type { AuthResult, HubLimits } from "../contracts.ts";
import { checkProtocol } from "../packets.ts";
import { ProtocolError } from "../protocol-error.ts";
import type { HubMessage } from "../session.ts";
import { topicNameError } from "../topic-validation.ts";

const encoder = new TextEncoder();

export function handleConnect(conn: Connection, frame: Uint8Array, bodyStart: number): void {
  const hub = conn.hub;
  const proto = checkProtocol(frame, bodyStart);
  if (!proto.ok) {
    if ("returnCode" in proto) {
      refuse(conn, 1, "unsupported protocol level"); // [MQTT-3.1.2-2]
      return;
    }
    throw new ProtocolError(proto.close); // [MQTT-3.1.2-1]
  }
  const packet = hub.decoder.connect(frame); // reserved flag and will flags [MQTT-3.1.2-3] [MQTT-3.1.2-11..15]
  const clean = packet.clean !== false;
  let clientId = packet.clientId ?? "";
  if (clientId === "") {
    if (!clean) {
      refuse(conn, 2, "empty client id without clean session"); // [MQTT-3.1.3-8]
      return;
    }
    clientId = hub.assignClientId(); // [MQTT-3.1.3-6]
  } else if (!clientIdAllowed(clientId, hub.limits)) {
    refuse(conn, 2, "client id not allowed"); // [MQTT-3.1.3-5]
    return;
  }
  if (!hub.admits()) {
    refuse(conn, 3, "too many connections");
    return;
  }
  const will = willOf(packet, hub.limits);
  conn.suspend();
  let result: Promise<AuthResult> | AuthResult;
  try {
    result = hub.authenticator.authenticate({
      clientId,
      username: packet.username,
      password: packet.password,
      certificate: conn.transport.peerCertificate,
      listener: conn.transport.listener,
    });
  } catch (err) {
    conn.fail(err);
    return;
  }
  if (result instanceof Promise) {
    result.then(
      (r) => finish(conn, packet, clientId, clean, will, r),
      (err: unknown) => conn.fail(err),
    );
  } else {
    finish(conn, packet, clientId, clean, will, result);
  }
}

function finish(
  conn: Connection,
  packet: IConnectPacket,
  clientId: string,
  clean: boolean,
  will: HubMessage | null,
  auth: AuthResult,
): void {
  if (conn.state === "closed") return;
  if (!auth.ok) {
    conn.hub.log.info("client_refused", {
      client_id: clientId,
      return_code: auth.returnCode,
      reason: auth.reason,
    });
    refuse(conn, auth.returnCode, auth.reason); // [MQTT-3.2.2-4]
    return;
  }
  const hub = conn.hub;
  const { session, present } = hub.openSession(clientId, clean); // takeover [MQTT-3.1.4-2]
  conn.state = "open";
  conn.clientId = clientId;
  conn.principal = auth.principal;
  conn.will = will;
  conn.session = session;
  conn.reply().connack(present, 0); // [MQTT-3.2.0-1] first packet; [MQTT-3.2.2-2] [MQTT-3.2.2-3]
  conn.startKeepalive(packet.keepalive ?? 0);
  session.attach(conn);
  hub.log.debug("client_connected", {
    client_id: clientId,
    principal: auth.principal.name,
    remote: conn.transport.remoteAddress,
    clean,
    session_present: present,
  });
  conn.resume();
}

function refuse(conn: Connection, returnCode: number, reason: string): void {
  conn.hub.counters.connectionsRefused++;
  conn.reply().connack(false, returnCode); // [MQTT-3.2.2-4] SessionPresent 0 with a non-zero code
  conn.terminate(false, reason); // [MQTT-3.2.2-5]
}

function clientIdAllowed(clientId: string, limits: HubLimits): boolean {
  if (encoder.encode(clientId).length > limits.maxClientIdBytes) return false;
  return limits.clientIdPattern === undefined || limits.clientIdPattern.test(clientId);
}

function willOf(packet: IConnectPacket, limits: HubLimits): HubMessage | null {
  const w = packet.will;
  if (w === undefined || w === null) return null;
  const error = topicNameError(w.topic, limits);
  if (error !== null) throw new ProtocolError(`bad will topic: ${error}`);
  const payload = typeof w.payload === "string" ? encoder.encode(w.payload) : new Uint8Array(w.payload);
  return { topic: w.topic, payload, qos: w.qos ?? 0, retain: w.retain ?? false };
}
