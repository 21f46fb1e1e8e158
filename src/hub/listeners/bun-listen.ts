// What the tcp/ssl and ws/wss listeners share on Bun.listen: binding with TLS (with a CA, a client
// certificate is requested and any one given is verified, as OpenEdge's VerifyClientCertIfGiven), who an
// accepted socket's peer is (a failed certificate is refused here, before anything reads its bytes), and
// routing the socket's events to the per-connection object the listener makes.

import type { Socket, TCPSocketListener } from "bun";
import type { Logger } from "../../log/index.ts";
import type { ListenerConfig } from "../config-listen.ts";
import type { HubCore, PeerCertificate } from "../contracts.ts";
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
  /** ws/wss: largest WebSocket message (all its fragments) a client may send. */
  wsMaxMessageBytes?: number;
  /** ws/wss: how long a client has to complete the HTTP upgrade. */
  wsHandshakeTimeoutMs?: number;
}

/** Who is on the other end of an accepted socket. */
export interface Peer {
  remoteAddress: string;
  /** Present only when the client gave a certificate and it verified against the CA. */
  peerCertificate?: PeerCertificate;
}

/** The per-connection object a listener keeps as the socket's data (the tcp transport itself, say). */
export interface Connection {
  onData(bytes: Uint8Array): void;
  onDrain(): void;
  onClose(error?: Error): void;
}

/**
 * Takes a peer that passed TLS: sets `socket.data` to its connection before anything can reach it (the
 * core's `accept` may already write or close), or leaves it unset when turning the peer away.
 */
export type OpenConnection<C extends Connection> = (socket: Socket<C | undefined>, peer: Peer) => void;

/** Binds `config`'s address (TLS for ssl and wss) and hands each accepted peer to `open`. */
export function listenSockets<C extends Connection>(
  config: ListenerConfig,
  deps: ListenerDeps,
  open: OpenConnection<C>,
): RunningListener {
  const { log, tls } = deps;
  const secure = (config.kind === "ssl" || config.kind === "wss") && tls !== undefined;
  const verifyClients = secure && tls.verifyClients;
  const server: TCPSocketListener<C | undefined> = Bun.listen<C | undefined>({
    hostname: config.host,
    port: config.port,
    // rejectUnauthorized false: a client without a certificate may still log in with a password; one
    // with a certificate that fails is refused in `open` (logged) rather than by a bare TLS alert
    ...(secure ? { tls: { ...tls.options, requestCert: verifyClients, rejectUnauthorized: false } } : {}),
    // each socket gets its own data in `open`: Bun.listen's initial value is shared by all of them
    data: undefined,
    socket: {
      binaryType: "uint8array",
      open(socket) {
        const remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
        const peer: Peer = { remoteAddress };
        if (verifyClients) {
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
          if (checked !== undefined) peer.peerCertificate = checked;
        }
        open(socket, peer);
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
function checkClientCertificate(socket: Socket<unknown>): PeerCertificate | undefined | "refused" {
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
