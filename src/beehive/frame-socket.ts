// One framed connection over a Bun socket, shared by both ends: frames appended in a tick leave in
// one write (after a microtask), a short write waits for drain, and inbound bytes go through the decoder.

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
  private scheduled = false;
  private waitingDrain = false;
  private closed = false;
  private readonly flushTask = () => this.flush();

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
   * Makes sure a flush runs at the end of this event-loop turn. Not a microtask: a sender awaiting
   * each send would then flush (one syscall) per message; a turn batches everything it produced.
   */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(this.flushTask);
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
    this.scheduled = false;
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
