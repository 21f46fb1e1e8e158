// One client session's state: subscriptions, the outgoing queue and in-flight window with packet ids,
// and incoming QoS 2 ids. It sends through whatever link is attached (a network connection or the
// in-process client) and records changes of persistent sessions in the hub's persistence.

import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { HubLimits, StoredMessage } from "./contracts.ts";
import type { HubPersistence, OutgoingRow, OutgoingState } from "./persistence.ts";
import type { HubStats } from "./stats.ts";

/** A message on its way through the hub, with encodings cached for every recipient. */
export interface HubMessage extends StoredMessage {
  topicBytes?: Uint8Array;
  /** The QoS 0, RETAIN 0 PUBLISH frame, reused for every QoS 0 recipient. */
  qos0Frame?: Uint8Array;
  /** Holds bytes of its own (see keepMessage). */
  detached?: boolean;
  /** Valid only while it is published (a received frame read in place): the copy to keep instead. */
  keep?(): HubMessage;
}

/**
 * The message to keep when one outlives this turn (queued, in flight, retained, waiting for an
 * in-process handler), with bytes of its own. Received messages are views into the read chunk they
 * came in (up to 512 KiB of other clients' traffic), which a kept view would pin. Once per message;
 * the QoS 0 frame (and topic bytes that were a view) are encoded again when needed.
 */
export function keepMessage(msg: HubMessage): HubMessage {
  if (msg.keep !== undefined) return msg.keep();
  if (msg.detached) return msg;
  msg.detached = true;
  if (!ownsBuffer(msg.payload)) msg.payload = msg.payload.slice();
  if (msg.topicBytes !== undefined && !ownsBuffer(msg.topicBytes)) msg.topicBytes = undefined;
  msg.qos0Frame = undefined;
  return msg;
}

/** The whole of its buffer: a view of nothing else. */
function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

export interface Outgoing {
  seq: number;
  msg: HubMessage;
  qos: 0 | 1 | 2;
  retain: boolean;
  packetId: number;
  state: OutgoingState;
  sentAt: number;
}

/** Where a session's messages go while its client is connected. */
export interface SessionLink {
  /** False while the client's transport pushes back or its turn's bytes are over the bound. */
  canSend(): boolean;
  sendPublish(msg: HubMessage, qos: 0 | 1 | 2, retain: boolean, dup: boolean, packetId: number): void;
  sendPubrel(packetId: number): void;
  /** Ends the link (its client id was taken over). */
  close(reason: string): void;
}

/** A publisher whose reading can be paused while a subscriber it feeds is backed up. */
export interface Holdable {
  /** Stops reading from this publisher (TCP backpressure); false when its transport cannot pause. */
  hold(): boolean;
  /** One hold fewer; reading resumes when none is left. */
  release(): void;
}

/** Queued messages above which a connected session holds the publishers feeding it... */
export const HOLD_QUEUED = 1000;
/** ...until its queue is back under this. */
const RELEASE_QUEUED = 250;
/** A session that holds publishers this long without relief is stalled: it stops holding them, its
 * queue fills and further messages are dropped (counted) — one stuck client does not stop the rest. */
export const STALL_MS = 2000;

export interface SessionEnv {
  limits: HubLimits;
  persistence: HubPersistence;
  stats: HubStats;
  clock: Clock;
}

const NO_SUBSCRIPTIONS: ReadonlyMap<string, 0 | 1 | 2> = new Map();
const NO_INFLIGHT: ReadonlyMap<number, Outgoing> = new Map();
const NO_IDS: ReadonlySet<number> = new Set();

/**
 * Collections are created on first use: an idle client's session (no subscriptions, nothing in
 * flight or queued) holds no Map, Set or array — each would cost hundreds of bytes per connection.
 */
export class Session {
  link: SessionLink | null = null;
  private subs: Map<string, 0 | 1 | 2> | null = null;
  private flight: Map<number, Outgoing> | null = null;
  private qos2In: Set<number> | null = null;
  private queue: Outgoing[] | null = null;
  private head = 0;
  private nextSeq = 1;
  private nextPacketId = 1;
  private retryTimer: TimerHandle | null = null;
  private holders: Holdable[] | null = null;
  private stallTimer: TimerHandle | null = null;
  private stalled = false;

  constructor(
    readonly clientId: string,
    readonly clean: boolean,
    private readonly env: SessionEnv,
  ) {}

  get queued(): number {
    return this.queue === null ? 0 : this.queue.length - this.head;
  }

  /** Filter → granted QoS (read-only: change it through `setSubscription`/`deleteSubscription`). */
  get subscriptions(): ReadonlyMap<string, 0 | 1 | 2> {
    return this.subs ?? NO_SUBSCRIPTIONS;
  }

  setSubscription(filter: string, qos: 0 | 1 | 2): void {
    this.subs ??= new Map();
    this.subs.set(filter, qos);
  }

  /** False when there was no such subscription. */
  deleteSubscription(filter: string): boolean {
    return this.subs?.delete(filter) === true;
  }

  /** Deliveries sent and not yet acknowledged, by packet id. */
  get inflight(): ReadonlyMap<number, Outgoing> {
    return this.flight ?? NO_INFLIGHT;
  }

  /** Incoming QoS 2 packet ids received (PUBREC sent) and not yet released by PUBREL. */
  get incomingQos2(): ReadonlySet<number> {
    return this.qos2In ?? NO_IDS;
  }

  addIncomingQos2(packetId: number): void {
    this.qos2In ??= new Set();
    this.qos2In.add(packetId);
  }

  /** False when the id was not there. */
  deleteIncomingQos2(packetId: number): boolean {
    return this.qos2In?.delete(packetId) === true;
  }

  private setInflight(out: Outgoing): void {
    this.flight ??= new Map();
    this.flight.set(out.packetId, out);
  }

  private enqueue(out: Outgoing): void {
    this.queue ??= [];
    this.queue.push(out);
  }

  /** Restores a persisted outgoing message (in seq order) before the client reconnects. */
  restore(row: OutgoingRow): void {
    const out: Outgoing = {
      seq: row.seq,
      msg: row.message,
      qos: row.message.qos,
      retain: row.message.retain,
      packetId: row.packetId,
      state: row.state,
      sentAt: 0,
    };
    this.nextSeq = Math.max(this.nextSeq, row.seq + 1);
    if (row.packetId !== 0) this.setInflight(out);
    else this.enqueue(out);
  }

  /** Hands a message to this session at the QoS it was granted; false when dropped (queue full). */
  deliver(msg: HubMessage, qos: 0 | 1 | 2, retain: boolean): boolean {
    const link = this.link;
    if (qos === 0) {
      if (link !== null && this.queued === 0 && link.canSend()) {
        link.sendPublish(msg, 0, retain, false, 0);
        return true;
      }
      // Offline persistent sessions keep QoS 1/2 only; QoS 0 waits only behind a slow link.
      if (link === null) return false;
    }
    if (this.queued >= this.env.limits.maxQueued) {
      this.env.stats.dropped++;
      return false;
    }
    const out: Outgoing = {
      seq: this.nextSeq++,
      msg: keepMessage(msg),
      qos,
      retain,
      packetId: 0,
      state: "publish",
      sentAt: 0,
    };
    if (qos > 0 && !this.clean) this.env.persistence.putOutgoing(this.row(out), true);
    if (link !== null && this.queued === 0 && this.windowOpen() && link.canSend()) this.send(out, link);
    else this.enqueue(out);
    return true;
  }

  /**
   * A message from `publisher` went into this session's queue: past HOLD_QUEUED, the publisher stops
   * being read until the queue drains (backpressure instead of drops), unless this session stalled.
   */
  congested(publisher: Holdable): void {
    if (this.queued < HOLD_QUEUED || this.link === null || this.stalled) return;
    if ((this.link as unknown) === publisher) return; // its own acks are in the bytes we would stop reading
    if (this.holders?.includes(publisher) || !publisher.hold()) return;
    this.holders ??= [];
    this.holders.push(publisher);
    this.env.stats.publishersHeld++;
    this.stallTimer ??= this.env.clock.setTimeout(() => {
      this.stallTimer = null;
      if (this.holders === null) return;
      this.stalled = true;
      this.env.stats.stalledClients++;
      this.releaseHolders();
    }, STALL_MS);
  }

  /** Sends queued messages while the link and the in-flight window allow. */
  pump(): void {
    const link = this.link;
    if (link === null) return;
    const queue = this.queue;
    if (queue !== null) {
      while (this.head < queue.length && link.canSend()) {
        const out = queue[this.head] as Outgoing;
        if (out.qos > 0 && !this.windowOpen()) break;
        queue[this.head++] = undefined as unknown as Outgoing;
        this.send(out, link);
      }
      if (this.head === queue.length) {
        this.queue = null;
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > queue.length) {
        this.queue = queue.slice(this.head);
        this.head = 0;
      }
    }
    if (this.queued <= RELEASE_QUEUED) {
      this.stalled = false;
      if (this.holders !== null) this.releaseHolders();
    }
  }

  private releaseHolders(): void {
    const holders = this.holders;
    this.holders = null;
    this.stallTimer?.cancel();
    this.stallTimer = null;
    if (holders !== null) for (const h of holders) h.release();
  }

  /** A client connected to this session: unacknowledged messages go again first [MQTT-4.4.0-1]. */
  attach(link: SessionLink): void {
    this.link = link;
    if (this.flight !== null)
      for (const out of [...this.flight.values()].sort((a, b) => a.seq - b.seq)) this.resend(out, link);
    this.armRetry();
    this.pump();
  }

  detach(): void {
    this.link = null;
    this.stalled = false;
    this.releaseHolders();
    this.retryTimer?.cancel();
    this.retryTimer = null;
    // QoS 0 messages waiting behind a slow link are not kept for an offline session.
    if (this.queue !== null) {
      const kept = this.queue.slice(this.head).filter((o) => o.qos > 0);
      this.queue = kept.length > 0 ? kept : null;
    }
    this.head = 0;
  }

  /** PUBACK for a QoS 1 delivery; false when the id is unknown. */
  puback(packetId: number): boolean {
    const out = this.inflight.get(packetId);
    if (out === undefined || out.qos !== 1) return false;
    this.complete(out);
    return true;
  }

  /** PUBREC for a QoS 2 delivery: the message is now the client's; we owe PUBREL [MQTT-4.3.3-1]. */
  pubrec(packetId: number): boolean {
    const out = this.inflight.get(packetId);
    if (out === undefined || out.qos !== 2) return false;
    if (out.state !== "pubrel") {
      out.state = "pubrel";
      if (!this.clean) this.env.persistence.putOutgoing(this.row(out), false);
    }
    return true;
  }

  pubcomp(packetId: number): boolean {
    const out = this.inflight.get(packetId);
    if (out === undefined || out.state !== "pubrel") return false;
    this.complete(out);
    return true;
  }

  /** Forgets everything persisted for this session (clean session ended or replaced). */
  discard(): void {
    this.detach();
    this.queue = null;
    this.flight = null;
    if (!this.clean) this.env.persistence.deleteSession(this.clientId);
  }

  private windowOpen(): boolean {
    return this.inflight.size < this.env.limits.maxInflight;
  }

  private send(out: Outgoing, link: SessionLink): void {
    if (out.qos > 0) {
      out.packetId = this.allocatePacketId();
      out.sentAt = this.env.clock.monotonic();
      this.setInflight(out);
      if (!this.clean) this.env.persistence.putOutgoing(this.row(out), false);
      if (this.retryTimer === null) this.armRetry();
    }
    link.sendPublish(out.msg, out.qos, out.retain, false, out.packetId);
  }

  private resend(out: Outgoing, link: SessionLink): void {
    out.sentAt = this.env.clock.monotonic();
    if (out.state === "pubrel")
      link.sendPubrel(out.packetId); // [MQTT-4.4.0-1]
    else link.sendPublish(out.msg, out.qos, out.retain, true, out.packetId); // DUP=1 [MQTT-3.3.1-1]
  }

  private complete(out: Outgoing): void {
    this.flight?.delete(out.packetId);
    if (!this.clean) this.env.persistence.deleteOutgoing(this.clientId, out.seq);
    if (this.inflight.size === 0 && this.retryTimer !== null) {
      this.retryTimer.cancel();
      this.retryTimer = null;
    }
    this.pump();
  }

  private allocatePacketId(): number {
    // [MQTT-2.3.1-2] a packet id is not reused while its exchange is unfinished.
    for (;;) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65_535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
  }

  /** One timer per session, only while something is in flight on a live link (no idle polling). */
  private armRetry(): void {
    const interval = this.env.limits.retryIntervalMs;
    if (interval <= 0 || this.link === null || this.inflight.size === 0 || this.retryTimer !== null) return;
    this.retryTimer = this.env.clock.setTimeout(() => {
      this.retryTimer = null;
      const link = this.link;
      if (link === null) return;
      const due = this.env.clock.monotonic() - interval;
      for (const out of this.inflight.values())
        if (out.sentAt <= due && link.canSend()) this.resend(out, link);
      this.armRetry();
    }, interval);
  }

  private row(out: Outgoing): OutgoingRow {
    const m = out.msg;
    return {
      clientId: this.clientId,
      seq: out.seq,
      message: { topic: m.topic, payload: m.payload, qos: out.qos, retain: out.retain },
      packetId: out.packetId,
      state: out.state,
    };
  }
}
