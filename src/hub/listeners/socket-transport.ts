// A ClientTransport over one accepted Bun.listen socket (tcp, ssl, or under WebSocket framing): writes go
// straight to the socket while it keeps up, the rest waits in a SendQueue; `write` says false past the
// bound and the sink hears `drained` once the queue is empty again.

import type { ClientTransport, ConnectionSink, PeerCertificate } from "../contracts.ts";
import { SendQueue } from "./send-queue.ts";

/** Queued bytes past which `write` asks the core to stop feeding this client. */
export const DEFAULT_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** How long `close` waits for queued bytes to leave before cutting the connection. */
export const CLOSE_FLUSH_MS = 5_000;

/** What a transport needs of the socket under it. */
export interface RawSocket {
  /** Bytes the socket took (0 when it is full); it keeps nothing else. */
  write(bytes: Uint8Array): number;
  /** Graceful close once the socket's own buffer is out. */
  end(): void;
  /** Immediate close. */
  terminate(): void;
  /** Stop and restart reading, so a publisher feeding a backed-up subscriber feels TCP backpressure. */
  pause(): void;
  resume(): void;
}

export interface TransportInfo {
  remoteAddress: string;
  listener: string;
  peerCertificate?: PeerCertificate;
  highWaterBytes?: number;
}

export class SocketTransport implements ClientTransport {
  readonly remoteAddress: string;
  readonly listener: string;
  readonly peerCertificate?: PeerCertificate;
  /** Set by the listener right after the core accepted the transport. */
  sink: ConnectionSink | undefined;
  /** What the socket did not take yet; created only then (an idle connection holds no queue). */
  private queue: SendQueue | null = null;
  private readonly highWater: number;
  private full = false;
  private closing = false;
  private ended = false;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly socket: RawSocket,
    info: TransportInfo,
  ) {
    this.remoteAddress = info.remoteAddress;
    this.listener = info.listener;
    if (info.peerCertificate !== undefined) this.peerCertificate = info.peerCertificate;
    this.highWater = info.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
  }

  get buffered(): number {
    return this.queue?.length ?? 0;
  }

  write(bytes: Uint8Array): boolean {
    if (this.ended || this.closing) return false;
    this.send(bytes);
    if (this.buffered > this.highWater) this.full = true;
    return !this.full;
  }

  pause(): void {
    if (!this.ended) this.socket.pause();
  }

  resume(): void {
    if (!this.ended) this.socket.resume();
  }

  close(_reason?: string): void {
    if (this.ended || this.closing) return;
    this.closing = true;
    if (this.queue === null || this.queue.length === 0) {
      this.finish(false);
      return;
    }
    // give queued bytes (a CONNACK with an error code, say) a bounded chance to leave
    this.closeTimer = setTimeout(() => this.finish(true), CLOSE_FLUSH_MS);
    this.closeTimer.unref?.();
  }

  /** The socket has room again: send what waits, then tell the core if it was holding back. */
  onDrain(): void {
    if (this.ended) return;
    if (this.queue !== null) {
      if (!this.queue.flush((b) => this.socket.write(b))) return;
      this.queue = null;
    }
    if (this.closing) {
      this.finish(false);
      return;
    }
    if (this.full && this.buffered <= this.highWater) {
      this.full = false;
      this.sink?.drained();
    }
  }

  onData(bytes: Uint8Array): void {
    if (!this.ended && !this.closing) this.sink?.data(bytes);
  }

  /** The socket closed: the core hears about it unless the core itself closed it. */
  onClose(error?: Error): void {
    if (this.ended) return;
    const byCore = this.closing;
    this.ended = true;
    this.queue = null;
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    if (!byCore) this.sink?.closed(error);
  }

  /**
   * Writes now or queues behind what waits, so bytes leave in order whole: a framing subclass hands
   * down complete frames, and a frame the socket took part of is finished before the next one starts.
   * Also while closing (a reply the peer expects before the close), never after the end.
   */
  protected send(bytes: Uint8Array): void {
    if (this.ended) return;
    if (this.queue === null || this.queue.length === 0) {
      const taken = Math.max(0, this.socket.write(bytes));
      if (taken < bytes.length) {
        this.queue ??= new SendQueue();
        this.queue.push(bytes.subarray(taken));
      }
    } else {
      this.queue.push(bytes);
    }
  }

  private finish(cut: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.queue = null;
    if (cut) this.socket.terminate();
    else this.socket.end();
  }
}
