// The hub's inner boundaries, fixed first so its parts can be built side by side: listeners hand
// client transports to the protocol core; the core asks an authenticator/authorizer and a persistence
// store; limits come from service.yml.

/** One client connection as the protocol core sees it, whatever carries it (TCP, TLS, WebSocket). */
export interface ClientTransport {
  /** `1.2.3.4:5678`, `unix`, `inproc`. */
  readonly remoteAddress: string;
  /** The listener URL it arrived on (`tcp://0.0.0.0:1883`). */
  readonly listener: string;
  /** The verified TLS client certificate, when the listener asked for one. */
  readonly peerCertificate?: PeerCertificate;
  /**
   * Queues bytes for the client and returns whether the transport still has room (false: the bound
   * is reached and the core should stop feeding this client until `drained`). Never blocks.
   */
  write(bytes: Uint8Array): boolean;
  /**
   * Stops / restarts reading from the peer (TCP backpressure to a publisher while a subscriber it
   * feeds is backed up). Optional: a transport without them is never paused, and a backed-up
   * subscriber's queue fills and drops instead. Bytes already read may still arrive after `pause`.
   */
  pause?(): void;
  resume?(): void;
  /** Bytes queued and not yet taken by the OS. */
  readonly buffered: number;
  /** Ends the connection (flushing what is queued when possible). */
  close(reason?: string): void;
}

export interface PeerCertificate {
  subjectCN?: string;
  fingerprint256?: string;
}

/** What the core gives a listener for each accepted transport. */
export interface ConnectionSink {
  /** `bytes` become the core's: the transport must not reuse or change them (frames are views of them). */
  data(bytes: Uint8Array): void;
  /** The transport's queue emptied after `write` returned false. */
  drained(): void;
  /** The peer or the network closed the connection (not called after the core's own `close`). */
  closed(error?: Error): void;
}

export interface HubCore {
  accept(transport: ClientTransport): ConnectionSink;
}

export type ConnectReturnCode = 0 | 1 | 2 | 3 | 4 | 5;

export interface Credentials {
  clientId: string;
  username?: string;
  password?: Uint8Array;
  certificate?: PeerCertificate;
  listener: string;
}

/** Who a connected client is; permissions are checked against it for every publish and subscribe. */
export interface Principal {
  /** The principal's username, or `anonymous`. */
  name: string;
  canPublish(topic: string): boolean;
  canSubscribe(filter: string): boolean;
}

export type AuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; returnCode: 4 | 5; reason: string };

export interface Authenticator {
  authenticate(credentials: Credentials): Promise<AuthResult> | AuthResult;
}

/** Limits and protocol options the core enforces (parsed from service.yml by the hub's config). */
export interface HubLimits {
  /** Largest PUBLISH payload (message.length.max), bytes. */
  maxMessageBytes: number;
  /** Largest topic, bytes (spec: 65535). */
  maxTopicBytes: number;
  /** Most topic levels (0 = no limit; OpenEdge used 8). */
  maxTopicLevels: number;
  /** Client id rule: longest id in bytes, and an optional pattern (OpenEdge: ^[0-9A-Za-z_-]{0,128}$). */
  maxClientIdBytes: number;
  clientIdPattern?: RegExp;
  /** Most simultaneous connections (0 = no limit). */
  maxConnections: number;
  /** QoS 1/2 messages in flight to one client before the rest wait in its queue. */
  maxInflight: number;
  /** Messages queued for one client (online or offline) before new ones are dropped and counted. */
  maxQueued: number;
  /** Resend interval for unacknowledged QoS 1/2 deliveries on a live connection (0 = only on reconnect). */
  retryIntervalMs: number;
  /** Offline sessions and their queues expire after this long (0 = never). */
  sessionExpiryMs: number;
}

export const DEFAULT_HUB_LIMITS: HubLimits = {
  maxMessageBytes: 32 * 1024,
  maxTopicBytes: 65_535,
  maxTopicLevels: 0,
  maxClientIdBytes: 65_535,
  maxConnections: 0,
  maxInflight: 100,
  maxQueued: 10_000,
  retryIntervalMs: 20_000,
  sessionExpiryMs: 0,
};

/** A message as the hub stores and routes it. */
export interface StoredMessage {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
}
