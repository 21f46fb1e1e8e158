// tcp:// and ssl:// listeners on Bun.listen. With a CA, TLS asks for a client certificate and verifies
// any one given (as OpenEdge's VerifyClientCertIfGiven): a client without one may still log in with a
// password; a verified one reaches the core as `peerCertificate` (CN and SHA-256 fingerprint).

import type { Socket, TCPSocketListener } from "bun";
import type { Logger } from "../../log/index.ts";
import type { ListenerConfig } from "../config-listen.ts";
import type { HubCore, PeerCertificate } from "../contracts.ts";
import { SocketTransport } from "./socket-transport.ts";
import type { TlsMaterial } from "./tls-material.ts";

export interface RunningListener {
  readonly url: string;
  readonly kind: ListenerConfig["kind"];
  /** The port actually bound (the OS's pick when the URL said 0). */
  readonly port: number;
  /** Stops accepting; `force` also cuts open connections. */
  stop(force?: boolean): void;
}

export interface ListenerDeps {
  core: HubCore;
  log: Logger;
  tls?: TlsMaterial;
  highWaterBytes?: number;
}

/** A socket's data: its transport once the core accepted it (the transport itself, no wrapper). */
type Conn = SocketTransport | undefined;

export function startTcpListener(config: ListenerConfig, deps: ListenerDeps): RunningListener {
  const { core, log, tls } = deps;
  const secure = config.kind === "ssl";
  const server: TCPSocketListener<Conn> = Bun.listen<Conn>({
    hostname: config.host,
    port: config.port,
    ...(secure && tls
      ? { tls: { ...tls.options, requestCert: tls.verifyClients, rejectUnauthorized: false } }
      : {}),
    data: undefined,
    socket: {
      binaryType: "uint8array",
      open(socket) {
        const remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
        let peerCertificate: PeerCertificate | undefined;
        if (secure && tls?.verifyClients) {
          const checked = checkClientCertificate(socket);
          if (checked === "refused") {
            log.warn("hub_tls_client_refused", {
              listener: config.url,
              remote: remoteAddress,
              reason: socket.getAuthorizationError()?.message ?? "certificate not verified",
            });
            socket.terminate();
            return;
          }
          peerCertificate = checked;
        }
        // The Bun socket is the RawSocket itself: no closures per connection.
        const transport = new SocketTransport(socket, {
          remoteAddress,
          listener: config.url,
          ...(peerCertificate ? { peerCertificate } : {}),
          ...(deps.highWaterBytes ? { highWaterBytes: deps.highWaterBytes } : {}),
        });
        socket.data = transport;
        transport.sink = core.accept(transport);
      },
      data(socket, bytes) {
        socket.data?.onData(bytes);
      },
      drain(socket) {
        socket.data?.onDrain();
      },
      close(socket, error) {
        socket.data?.onClose(error);
      },
      error(socket, error) {
        log.debug("hub_socket_error", { listener: config.url, error: error.message });
        socket.data?.onClose(error);
      },
    },
  });
  return {
    url: config.url,
    kind: config.kind,
    port: server.port,
    stop: (force = false) => server.stop(force),
  };
}

/** The verified client certificate; undefined when none was given; "refused" when one failed. */
function checkClientCertificate(socket: Socket<Conn>): PeerCertificate | undefined | "refused" {
  const cert = socket.getPeerCertificate();
  const given = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
  if (!given) return undefined;
  if (!socket.authorized) return "refused";
  const out: PeerCertificate = {};
  const cn = cert.subject?.CN;
  const subjectCN = Array.isArray(cn) ? cn[0] : cn;
  if (typeof subjectCN === "string") out.subjectCN = subjectCN;
  if (typeof cert.fingerprint256 === "string") out.fingerprint256 = cert.fingerprint256;
  return out;
}
