// An in-process client for built-in modules: a session like a network client's (QoS, retain,
// permissions, persistent sessions), delivered by function call instead of sockets and MQTT bytes.

import { OpenEdgeError } from "../lib/errors.ts";
import type { HubContext } from "./context.ts";
import type { Principal } from "./contracts.ts";
import { type HubMessage, keepMessage, type Session, type SessionLink } from "./session.ts";
import { filterMatches, topicFilterError, topicNameError } from "./topic-validation.ts";

export interface InprocClientOptions {
  clientId: string;
  /** Permissions to apply; full permissions when omitted (the module is trusted). */
  principal?: Principal;
  /** False keeps subscriptions and QoS 1/2 messages while closed (default true). */
  clean?: boolean;
}

export interface InprocMessage {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/**
 * Returned by a handler that acknowledges later: the next message is delivered at once, and this one's
 * QoS 1/2 acknowledgement waits for `ack` (never sent when `ack` rejects: the hub redelivers it).
 */
export interface DeferredAck {
  readonly ack: Promise<void>;
}

export type InprocHandler = (
  message: InprocMessage,
) => void | DeferredAck | Promise<void> | Promise<DeferredAck>;

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

const FULL_ACCESS: Principal = { name: "inproc", canPublish: () => true, canSubscribe: () => true };
const encoder = new TextEncoder();

interface Delivery {
  msg: HubMessage;
  qos: 0 | 1 | 2;
  retain: boolean;
  packetId: number;
}

export class InprocClient implements SessionLink {
  readonly clientId: string;
  readonly sessionPresent: boolean;
  private readonly principal: Principal;
  private readonly session: Session;
  private readonly handlers = new Map<string, InprocHandler>();
  private pending: Delivery[] = [];
  private draining = false;
  private closed = false;

  constructor(
    private readonly hub: HubContext & { turn(): Promise<void> },
    options: InprocClientOptions,
  ) {
    this.clientId = options.clientId;
    this.principal = options.principal ?? FULL_ACCESS;
    const { session, present } = hub.openSession(options.clientId, options.clean ?? true);
    this.session = session;
    this.sessionPresent = present;
    session.attach(this);
  }

  /** Resolves once the hub holds the message (QoS 1/2: after it is persisted). */
  async publish(topic: string, payload: Uint8Array | string, options: PublishOptions = {}): Promise<void> {
    this.assertOpen();
    const error = topicNameError(topic, this.hub.limits);
    if (error !== null) throw new OpenEdgeError("ERR_BAD_REQUEST", `invalid topic "${topic}": ${error}`);
    const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
    const qos = options.qos ?? 0;
    this.hub.counters.messagesReceived++;
    if (bytes.length > this.hub.limits.maxMessageBytes) {
      this.hub.counters.dropped++;
      throw new OpenEdgeError("ERR_BAD_REQUEST", `message of ${bytes.length} bytes over the limit`);
    }
    if (!this.hub.canPublish(this.principal, topic)) {
      this.hub.counters.publishDenied++;
      this.hub.log.debug("publish_denied", { client_id: this.clientId, topic });
      return; // dropped like a network client's, without an error the client could act on
    }
    this.hub.publish({ topic, payload: bytes, qos, retain: options.retain ?? false });
    if (qos > 0) await this.hub.turn();
  }

  /** Returns the granted QoS, or 0x80 when refused. */
  subscribe(filter: string, qos: 0 | 1 | 2, handler: InprocHandler): 0 | 1 | 2 | 0x80 {
    this.assertOpen();
    if (topicFilterError(filter, this.hub.limits) !== null || !this.principal.canSubscribe(filter))
      return 0x80;
    this.handlers.set(filter, handler);
    this.hub.subscribe(this.session, filter, qos);
    this.hub.sendRetained(this.session, filter, qos);
    return qos;
  }

  /** The session's filters, including those a persistent session kept from before. */
  filters(): string[] {
    return [...this.session.subscriptions.keys()];
  }

  unsubscribe(filter: string): void {
    this.handlers.delete(filter);
    if (!this.closed) this.hub.unsubscribe(this.session, filter);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.closeSession(this.session, this);
  }

  // ---- SessionLink ----

  canSend(): boolean {
    return !this.closed;
  }

  sendPublish(msg: HubMessage, qos: 0 | 1 | 2, retain: boolean, _dup: boolean, packetId: number): void {
    this.hub.counters.messagesSent++;
    this.pending.push({ msg: keepMessage(msg), qos, retain, packetId }); // the handler runs later
    if (!this.draining) {
      this.draining = true;
      queueMicrotask(() => void this.drain());
    }
  }

  sendPubrel(packetId: number): void {
    this.session.pubcomp(packetId);
  }

  /** Handlers run one message at a time, in order; the acknowledgement follows the handler. */
  private async drain(): Promise<void> {
    for (let d = this.pending.shift(); d !== undefined; d = this.pending.shift()) {
      if (this.closed) break;
      const message: InprocMessage = {
        topic: d.msg.topic,
        payload: d.msg.payload,
        qos: d.qos,
        retain: d.retain,
      };
      const deferred: Promise<void>[] = [];
      for (const [filter, handler] of this.handlers) {
        if (!filterMatches(filter, d.msg.topic)) continue;
        try {
          const later = await handler(message);
          if (later) deferred.push(later.ack);
        } catch (err) {
          this.hub.log.warn("inproc_handler_failed", {
            client_id: this.clientId,
            topic: d.msg.topic,
            error: err,
          });
        }
      }
      if (this.closed) break;
      if (deferred.length === 0) this.acknowledge(d);
      else {
        Promise.all(deferred).then(
          () => {
            if (!this.closed) this.acknowledge(d);
          },
          (err: unknown) =>
            this.hub.log.debug("inproc_ack_withheld", {
              client_id: this.clientId,
              topic: d.msg.topic,
              error: err,
            }),
        );
      }
    }
    this.pending = [];
    this.draining = false;
  }

  private acknowledge(d: Delivery): void {
    if (d.qos === 1) this.session.puback(d.packetId);
    else if (d.qos === 2 && this.session.pubrec(d.packetId)) this.session.pubcomp(d.packetId);
  }

  private assertOpen(): void {
    if (this.closed) throw new OpenEdgeError("ERR_CLOSED", `in-process client "${this.clientId}" is closed`);
  }
}
