// One module's bounded queue: a ring of messages, FIFO lists of blocked senders and waiting receivers,
// and an optional consumer (a remote module's connection) that takes messages instead of `take`.

import type { OpenEdgeError } from "../lib/errors.ts";
import type { Message } from "./model.ts";
import { Ring } from "./ring.ts";

/** Shared settled promise: the non-blocking send path returns it instead of allocating one. */
export const RESOLVED: Promise<void> = Promise.resolve();

interface ReceiveWaiter {
  resolve(msg: Message): void;
  reject(error: Error): void;
}

export interface BlockedSender {
  readonly msg: Message;
  resolve(): void;
  reject(error: Error): void;
  /** Set by whoever gave up waiting (a sync timeout); the queue skips it instead of searching. */
  cancelled: boolean;
}

/** Takes a message if it has room for it now; returning false leaves it in the queue. */
export type QueueConsumer = (msg: Message) => boolean;

/** What a remote module's connection reports about itself, read by stats. */
export interface RemoteState {
  readonly connected: boolean;
  readonly inflight: number;
}

export class ModuleQueue {
  readonly groups: string[] = [];
  sent = 0;
  received = 0;
  dropped = 0;
  /** Set by the socket server for a module that lives in another process. */
  remote: RemoteState | null = null;
  /** Called once when the queue is closed (cleanup or context close). */
  onClose: (() => void) | null = null;

  private readonly ring: Ring<Message>;
  private readonly receivers = new Ring<ReceiveWaiter>(4);
  private readonly blocked = new Ring<BlockedSender>(4);
  private consumer: QueueConsumer | null = null;
  private closedWith: OpenEdgeError | null = null;

  constructor(
    readonly name: string,
    readonly capacity: number,
  ) {
    this.ring = new Ring<Message>(Math.min(capacity, 64));
  }

  get depth(): number {
    return this.ring.size;
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  get waitingReceivers(): number {
    return this.receivers.size;
  }

  get blockedSenders(): number {
    let n = 0;
    for (const b of this.blocked) if (!b.cancelled) n++;
    return n;
  }

  /** Accepts `msg` now if there is a receiver, a willing consumer or room; false when full. */
  offer(msg: Message): boolean {
    const waiter = this.receivers.shift();
    if (waiter !== undefined) {
      this.sent++;
      this.received++;
      waiter.resolve(msg);
      return true;
    }
    if (this.ring.size === 0 && this.consumer !== null && this.consumer(msg)) {
      this.sent++;
      this.received++;
      return true;
    }
    if (this.ring.size < this.capacity) {
      this.ring.push(msg);
      this.sent++;
      return true;
    }
    return false;
  }

  /** Parks a sender until there is room; call only after `offer` returned false. */
  block(msg: Message, resolve: () => void, reject: (error: Error) => void): BlockedSender {
    const sender: BlockedSender = { msg, resolve, reject, cancelled: false };
    if (this.closedWith !== null) reject(this.closedWith);
    else this.blocked.push(sender);
    return sender;
  }

  /** Next message, waiting for one. */
  take(): Promise<Message> {
    const msg = this.poll();
    if (msg !== undefined) return Promise.resolve(msg);
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => this.receivers.push({ resolve, reject }));
  }

  /** Next message if one is queued; admits the oldest blocked sender into the freed slot. */
  poll(): Message | undefined {
    const msg = this.ring.shift();
    if (msg === undefined) return undefined;
    this.received++;
    this.admitBlocked();
    return msg;
  }

  /** Installs (or removes, with null) the consumer; it is fed via `poll` by its owner. */
  setConsumer(consumer: QueueConsumer | null): void {
    this.consumer = consumer;
  }

  /** Rejects everyone waiting with `error`, drops what is queued; returns how many were dropped. */
  close(error: OpenEdgeError): number {
    if (this.closedWith !== null) return 0;
    this.closedWith = error;
    this.consumer = null;
    for (let w = this.receivers.shift(); w !== undefined; w = this.receivers.shift()) w.reject(error);
    for (let b = this.blocked.shift(); b !== undefined; b = this.blocked.shift()) {
      if (!b.cancelled) b.reject(error);
    }
    const discarded = this.ring.size;
    this.ring.drain();
    this.onClose?.();
    return discarded;
  }

  private admitBlocked(): void {
    while (this.ring.size < this.capacity) {
      const b = this.blocked.shift();
      if (b === undefined) return;
      if (b.cancelled) continue;
      this.ring.push(b.msg);
      this.sent++;
      b.resolve();
    }
  }
}
