// Client side of one remote module's deliveries: the messages the master wrote to this process, in
// seq order, deduplicated after a reconnect, and the consumed seq that is acked back.

import type { OpenEdgeError } from "../lib/errors.ts";
import type { Message } from "./model.ts";
import { Ring } from "./ring.ts";

interface Delivery {
  seq: number;
  epoch: string;
  msg: Message;
}

interface Waiter {
  resolve(msg: Message): void;
  reject(error: Error): void;
}

export class ClientInbox {
  readonly groups: string[] = [];
  /** Epoch of the master-side sequence (from the welcome); seqs compare only within one epoch. */
  epoch = "";
  lastReceived = 0;
  lastConsumed = 0;
  /** Highest seq acked to the master on the current connection. */
  ackedSent = 0;
  /** Set when the master must hear the consumed seq again (it resent something already consumed). */
  forceAck = false;
  /** The connection this module was registered on (registration is per connection). */
  registeredOn: object | null = null;
  delivered = 0;
  consumed = 0;
  duplicates = 0;

  private readonly ring = new Ring<Delivery>(16);
  private readonly receivers = new Ring<Waiter>(4);
  private closedWith: OpenEdgeError | null = null;

  constructor(
    readonly name: string,
    /** Called when the consumed seq moved (an ack is due). */
    private readonly onConsumed: (inbox: ClientInbox) => void,
  ) {}

  get depth(): number {
    return this.ring.size;
  }

  get waitingReceivers(): number {
    return this.receivers.size;
  }

  get pendingAck(): boolean {
    return this.forceAck || this.lastConsumed > this.ackedSent;
  }

  /** A new epoch means a new master-side sequence: forget the old counters. */
  setEpoch(epoch: string): void {
    if (epoch === this.epoch) return;
    this.epoch = epoch;
    this.lastReceived = 0;
    this.lastConsumed = 0;
    this.ackedSent = 0;
  }

  /** Accepts a delivery; false for a duplicate (already held or consumed). */
  push(seq: number, msg: Message): boolean {
    if (this.closedWith !== null) return false;
    if (seq <= this.lastReceived) {
      this.duplicates++;
      if (seq <= this.lastConsumed) {
        this.forceAck = true;
        this.onConsumed(this);
      }
      return false;
    }
    this.lastReceived = seq;
    this.delivered++;
    const waiter = this.receivers.shift();
    if (waiter !== undefined) {
      waiter.resolve(msg);
      this.consume(seq, this.epoch);
      return true;
    }
    this.ring.push({ seq, epoch: this.epoch, msg });
    return true;
  }

  take(): Promise<Message> {
    const msg = this.poll();
    if (msg !== undefined) return Promise.resolve(msg);
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => this.receivers.push({ resolve, reject }));
  }

  poll(): Message | undefined {
    const d = this.ring.shift();
    if (d === undefined) return undefined;
    this.consume(d.seq, d.epoch);
    return d.msg;
  }

  close(error: OpenEdgeError): void {
    if (this.closedWith !== null) return;
    this.closedWith = error;
    for (let w = this.receivers.shift(); w !== undefined; w = this.receivers.shift()) w.reject(error);
    this.ring.drain();
  }

  private consume(seq: number, epoch: string): void {
    this.consumed++;
    // a message from an older epoch (before the master restarted) has nobody to ack it to
    if (epoch !== this.epoch || seq <= this.lastConsumed) return;
    this.lastConsumed = seq;
    this.onConsumed(this);
  }
}
