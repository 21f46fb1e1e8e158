// Starts the hub's listeners from service.yml's `listen` URLs; each accepted connection becomes a
// ClientTransport handed to the core. All start or none: a port that cannot be bound stops the rest.

import { errorMessage, OpenEdgeError } from "../../lib/errors.ts";
import type { Logger } from "../../log/index.ts";
import type { CertificateConfig } from "../config.ts";
import type { ListenerConfig } from "../config-listen.ts";
import type { HubCore } from "../contracts.ts";
import type { ListenerDeps, RunningListener } from "./bun-listen.ts";
import { startTcpListener } from "./tcp-listener.ts";
import { loadTlsMaterial } from "./tls-material.ts";
import { startWsListener } from "./ws-listener.ts";

export type { RunningListener } from "./bun-listen.ts";
export type { RawSocket, TransportInfo } from "./socket-transport.ts";
export { DEFAULT_HIGH_WATER_BYTES, SocketTransport } from "./socket-transport.ts";
export { loadTlsMaterial, type TlsMaterial } from "./tls-material.ts";

export interface StartListenersOptions {
  core: HubCore;
  log: Logger;
  certificate: CertificateConfig;
  /** Queued bytes per connection past which `write` returns false. */
  highWaterBytes?: number;
  /** ws/wss: largest WebSocket message a client may send (default: MQTT's largest packet). */
  wsMaxMessageBytes?: number;
  /** ws/wss: time a client has to complete the HTTP upgrade (default 10 s). */
  wsHandshakeTimeoutMs?: number;
}

export function startListeners(
  configs: readonly ListenerConfig[],
  options: StartListenersOptions,
): RunningListener[] {
  const needsTls = configs.some((c) => c.kind === "ssl" || c.kind === "wss");
  const tls = needsTls ? loadTlsMaterial(options.certificate) : undefined;
  const deps: ListenerDeps = { core: options.core, log: options.log };
  if (tls) deps.tls = tls;
  if (options.highWaterBytes !== undefined) deps.highWaterBytes = options.highWaterBytes;
  if (options.wsMaxMessageBytes !== undefined) deps.wsMaxMessageBytes = options.wsMaxMessageBytes;
  if (options.wsHandshakeTimeoutMs !== undefined) deps.wsHandshakeTimeoutMs = options.wsHandshakeTimeoutMs;
  const started: RunningListener[] = [];
  for (const config of configs) {
    try {
      const listener =
        config.kind === "ws" || config.kind === "wss"
          ? startWsListener(config, deps)
          : startTcpListener(config, deps);
      started.push(listener);
      options.log.info("hub_listening", {
        listener: config.url,
        kind: config.kind,
        host: config.host,
        port: listener.port,
        ...(config.kind === "ws" || config.kind === "wss" ? { path: config.path } : {}),
        ...(tls && (config.kind === "ssl" || config.kind === "wss")
          ? { client_certificates: tls.verifyClients }
          : {}),
      });
    } catch (err) {
      for (const l of started) l.stop(true);
      throw new OpenEdgeError("ERR_IO", `cannot listen on ${config.url}: ${errorMessage(err)}`, {
        cause: err,
        details: { listener: config.url },
      });
    }
  }
  return started;
}
