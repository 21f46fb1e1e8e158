// ws:// and wss:// listeners: MQTT over WebSocket on Bun.listen, with our own RFC 6455 server
// (ws-handshake.ts, ws-frames.ts, ws-connection.ts). Being a plain TCP/TLS listener underneath, wss
// verifies client certificates exactly as ssl:// does, so certificate principals log in over either.

import type { ListenerConfig } from "../config-listen.ts";
import { type ListenerDeps, listenSockets, type RunningListener } from "./bun-listen.ts";
import { WsConnection, type WsSettings } from "./ws-connection.ts";

/** MQTT's largest packet, fixed header included: one message can always carry one packet whole. */
export const WS_MAX_MESSAGE_BYTES = 268_435_455 + 5;
/** Time from accept to a complete upgrade request. */
export const WS_HANDSHAKE_TIMEOUT_MS = 10_000;

export function startWsListener(config: ListenerConfig, deps: ListenerDeps): RunningListener {
  const settings: WsSettings = {
    core: deps.core,
    log: deps.log,
    listener: config.url,
    path: config.path,
    maxMessageBytes: deps.wsMaxMessageBytes ?? WS_MAX_MESSAGE_BYTES,
    handshakeTimeoutMs: deps.wsHandshakeTimeoutMs ?? WS_HANDSHAKE_TIMEOUT_MS,
  };
  if (deps.highWaterBytes !== undefined) settings.highWaterBytes = deps.highWaterBytes;
  return listenSockets<WsConnection>(config, deps, (socket, peer) => {
    socket.data = new WsConnection(socket, peer, settings);
  });
}
