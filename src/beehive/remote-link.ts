// Master side of one remote module: drains its queue into whichever connection holds it, keeps what
// was written but not yet acknowledged, and resends exactly that after a reconnect.
//
// Delivery design (ack + resend, deduplicated by sequence number):
// - every message taken from the queue gets the next seq of this link's epoch (a random id per master
//   lifetime) and stays in `inflight` until the client acks it; the client acks a seq once its module
//   has *consumed* the message (receive returned it), cumulatively;
// - at most `window` messages are in flight, so a slow remote backs up into its bounded queue and
//   blocks (or fails fast) its senders exactly like a local module;
// - when the connection dies, inflight messages stay here; the next connection for the module says,
//   in its registration, the epoch and the last seq it consumed; inflight up to that seq is dropped,
//   the rest is resent in order, and the client drops any seq it already holds. A reconnecting client
//   therefore sees each message exactly once. A client that was killed comes back with no epoch: what
//   the dead process received but had not consumed is delivered again to the new one (never lost);
//   only a message it consumed in its last instant, whose ack never left, can be seen twice.

import type { Message } from "./model.ts";
import type { ModuleQueue, RemoteState } from "./module-queue.ts";
import { Ring } from "./ring.ts";

/** What a link needs from the connection that currently holds it. */
export interface LinkConnection {
  readonly id: number;
  /** Queues a delivery frame (a no-op once closed); throws when the message cannot be encoded. */
  deliver(module: string, seq: number, msg: Message): void;
}

interface Inflight {
  seq: number;
  msg: Message;
}

export class RemoteLink implements RemoteState {
  readonly epoch: string = crypto.randomUUID();
  private nextSeq = 1;
  private readonly unacked = new Ring<Inflight>(16);
  private conn: LinkConnection | null = null;
  private readonly consumer = (msg: Message): boolean => {
    if (this.conn === null || this.unacked.size >= this.window) return false;
    this.write(msg);
    return true;
  };

  constructor(
    readonly name: string,
    readonly queue: ModuleQueue,
    private readonly window: number,
    /** Told about a message that can never be written (unencodable), so its sender hears of it. */
    private readonly undeliverable: (msg: Message, error: unknown) => void,
  ) {}

  get connected(): boolean {
    return this.conn !== null;
  }

  get inflight(): number {
    return this.unacked.size;
  }

  get connection(): LinkConnection | null {
    return this.conn;
  }

  /**
   * Hands the module to `conn`; `epoch`/`consumed` come from the client's registration. Returns how
   * many unacknowledged messages were written again.
   */
  attach(conn: LinkConnection, epoch: string, consumed: number): number {
    this.conn = conn;
    if (epoch === this.epoch) this.prune(consumed);
    for (const entry of this.unacked.drain()) {
      try {
        conn.deliver(this.name, entry.seq, entry.msg);
      } catch (error) {
        this.undeliverable(entry.msg, error);
        continue;
      }
      this.unacked.push(entry);
    }
    const resent = this.unacked.size;
    this.queue.setConsumer(this.consumer);
    this.pump();
    return resent;
  }

  detach(conn: LinkConnection): void {
    if (this.conn !== conn) return;
    this.conn = null;
    this.queue.setConsumer(null);
  }

  /** The client consumed everything up to `seq`. */
  ack(seq: number): void {
    this.prune(seq);
    this.pump();
  }

  /** Moves queued messages to the connection while the window allows. */
  pump(): void {
    while (this.conn !== null && this.unacked.size < this.window) {
      const msg = this.queue.poll();
      if (msg === undefined) return;
      this.write(msg);
    }
  }

  private prune(seq: number): void {
    for (let head = this.unacked.peek(); head !== undefined && head.seq <= seq; head = this.unacked.peek()) {
      this.unacked.shift();
    }
  }

  private write(msg: Message): void {
    const seq = this.nextSeq++;
    try {
      // a connection that died but is not detached yet queues nothing: the message is resent later
      (this.conn as LinkConnection).deliver(this.name, seq, msg);
    } catch (error) {
      // unencodable: it can never reach the module; the seq gap is harmless (acks are cumulative)
      this.undeliverable(msg, error);
      return;
    }
    this.unacked.push({ seq, msg });
  }
}
