// One framed connection over a Bun socket, shared by both ends: frames are batched into few writes (see
// `schedule`), a short write waits for drain, and inbound bytes go through the streaming decoder.

import type { Socket } from "bun";
import { isOpenEdgeError } from "../lib/errors.ts";
import type { Codec } from "./codec.ts";
import { FrameBuffer, FrameDecoder, type FrameHandler } from "./packer.ts";

export interface FrameSocketOptions {
  codec: Codec;
  maxFrameBytes: number;
  onFrame: FrameHandler;
  /** Called on a frame the decoder rejected, before the socket is closed. */
  onReject: (reason: string, error: Error) => void;
  /** Called right before a write, to append frames that are cheaper batched (acks). */
  beforeFlush?: () => void;
}

export class FrameSocket<T = unknown> {
  codec: Codec;
  private readonly out: FrameBuffer;
  private readonly decoder: FrameDecoder;
  private microScheduled = false;
  private turnScheduled = false;
  /** A microtask flush already went out in this event-loop turn. */
  private burst = false;
  private burstResetScheduled = false;
  private waitingDrain = false;
  private closed = false;
  private readonly microFlush = () => {
    this.microScheduled = false;
    this.burst = true;
    if (!this.burstResetScheduled) {
      this.burstResetScheduled = true;
      setImmediate(this.endBurst);
    }
    this.flush();
  };
  private readonly turnFlush = () => {
    this.turnScheduled = false;
    this.flush();
  };
  private readonly endBurst = () => {
    this.burstResetScheduled = false;
    this.burst = false;
  };

  constructor(
    readonly socket: Socket<T>,
    private readonly options: FrameSocketOptions,
  ) {
    this.codec = options.codec;
    this.out = new FrameBuffer(64 * 1024, options.maxFrameBytes);
    this.decoder = new FrameDecoder(options.onFrame, options.maxFrameBytes);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes queued and not yet accepted by the kernel. */
  get backlog(): number {
    return this.out.size;
  }

  /**
   * Queues a frame; false (nothing queued) when the socket is closed. Throws if unencodable.
   * `binaryIn`: the only part of `value` that may hold bytes (see Codec.encode).
   */
  send(value: unknown, binaryIn?: unknown): boolean {
    if (this.closed) return false;
    this.out.append(this.codec, value, binaryIn);
    this.schedule();
    return true;
  }

  /**
   * Makes sure queued frames are written soon. The first flush of an event-loop turn runs as a
   * microtask (a request/response ping-pong pays no extra loop hop); later ones in the same turn wait
   * for its end, so a sender awaiting each send does not cost a syscall per message.
   */
  schedule(): void {
    if (this.closed) return;
    if (this.burst) {
      this.scheduleLazy();
      return;
    }
    if (this.microScheduled) return;
    this.microScheduled = true;
    queueMicrotask(this.microFlush);
  }

  /** Writes what is queued now. */
  flushNow(): void {
    this.flush();
  }

  /** A flush at the end of this turn, for frames nobody waits on (acks). */
  scheduleLazy(): void {
    if (this.closed || this.microScheduled || this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.turnFlush);
  }

  /** Feed from the socket's `data` handler. */
  data(chunk: Uint8Array): void {
    if (this.closed) return;
    try {
      this.decoder.push(chunk);
    } catch (error) {
      if (!isOpenEdgeError(error, "ERR_FRAME")) throw error;
      const reason = typeof error.details.reason === "string" ? error.details.reason : "bad_frame";
      this.options.onReject(reason, error);
      this.close();
    }
  }

  /** Feed from the socket's `drain` handler. */
  drain(): void {
    this.waitingDrain = false;
    this.flush();
  }

  /** Closes the socket; with `flushFirst` whatever is queued is written first (best effort). */
  close(flushFirst = false): void {
    if (this.closed) return;
    if (flushFirst && !this.waitingDrain && this.out.size > 0) {
      const { buffer, offset, length } = this.out.pending();
      this.socket.write(buffer, offset, length);
    }
    this.closed = true;
    this.out.clear();
    this.socket.end();
  }

  /** Marks the socket closed after the peer went away (the `close` handler). */
  closedByPeer(): void {
    this.closed = true;
    this.out.clear();
  }

  private flush(): void {
    if (this.closed) return;
    this.options.beforeFlush?.();
    if (this.waitingDrain || this.out.size === 0) return;
    const { buffer, offset, length } = this.out.pending();
    const written = this.socket.write(buffer, offset, length);
    if (written < 0) {
      this.closedByPeer();
      return;
    }
    this.out.consumed(written);
    if (written < length) this.waitingDrain = true;
  }
}
