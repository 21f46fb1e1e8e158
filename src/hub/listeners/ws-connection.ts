// One WebSocket connection on an accepted Bun socket: reads the HTTP upgrade, then decodes the client's
// frames into the MQTT stream of a transport whose every write leaves as one binary frame. It is that
// transport's RawSocket too, so a close by the core sends a close frame before the TCP end.

import type { Socket } from "bun";
import type { Logger } from "../../log/index.ts";
import type { HubCore } from "../contracts.ts";
import type { Connection, Peer } from "./bun-listen.ts";
import { type RawSocket, SocketTransport } from "./socket-transport.ts";
import {
  CloseCode,
  encodeClose,
  encodeFrame,
  FrameDecoder,
  type FrameSink,
  Opcode,
  WsProtocolError,
} from "./ws-frames.ts";
import { answerUpgrade, headEnd, MAX_HEAD_BYTES, type Refusal, refuse, resumeFrom } from "./ws-handshake.ts";

/** What every connection of one ws/wss listener shares. */
export interface WsSettings {
  core: HubCore;
  log: Logger;
  /** The listener's URL, as the core and logs name it. */
  listener: string;
  path: string;
  highWaterBytes?: number;
  maxMessageBytes: number;
  handshakeTimeoutMs: number;
}

/**
 * Frames above the send queue: the queue holds whole frames, so when the socket takes part of one the
 * rest goes out before the next frame starts (framing below the queue would re-frame a remainder).
 */
class WsTransport extends SocketTransport {
  override write(bytes: Uint8Array): boolean {
    return super.write(encodeFrame(Opcode.binary, bytes));
  }

  /** Bytes of our own (the 101 answer, pongs), in order with the rest and whatever the bound. */
  sendRaw(bytes: Uint8Array): void {
    this.send(bytes);
  }
}

const encoder = new TextEncoder();

export class WsConnection implements Connection, RawSocket, FrameSink {
  /** Request head bytes so far, while it spans several reads. */
  private head: Uint8Array | null = null;
  private transport: WsTransport | undefined;
  private decoder: FrameDecoder | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The socket was ended or cut by us, or closed under us: nothing more is read or sent. */
  private finished = false;

  constructor(
    private readonly socket: Socket<WsConnection | undefined>,
    private readonly peer: Peer,
    private readonly settings: WsSettings,
  ) {
    // a client that never completes the upgrade would hold the socket forever: no MQTT keepalive yet
    this.timer = setTimeout(() => this.handshakeTimedOut(), settings.handshakeTimeoutMs);
    this.timer.unref?.();
  }

  // --- Connection: the Bun socket's events

  onData(bytes: Uint8Array): void {
    if (this.finished) return;
    if (this.decoder === undefined) this.readHead(bytes);
    else this.decode(this.decoder, bytes);
  }

  onDrain(): void {
    this.transport?.onDrain();
  }

  onClose(error?: Error): void {
    this.finished = true;
    this.stopTimer();
    this.transport?.onClose(error);
  }

  // --- RawSocket: what the transport writes and closes

  write(bytes: Uint8Array): number {
    return this.socket.write(bytes);
  }

  end(): void {
    if (this.finished) return;
    this.finished = true;
    // the transport ends only once its queue is out, so the close frame starts on a frame boundary
    this.socket.write(encodeClose(CloseCode.normal));
    this.socket.end();
  }

  terminate(): void {
    this.finished = true;
    this.socket.terminate();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  // --- FrameSink: what the client's frames say

  data(bytes: Uint8Array): void {
    this.transport?.onData(bytes);
  }

  ping(payload: Uint8Array): void {
    this.transport?.sendRaw(encodeFrame(Opcode.pong, payload));
  }

  close(code: number | undefined, reason: string): void {
    const clean = code === undefined || code === CloseCode.normal;
    const error = clean ? undefined : new Error(`websocket closed by the client (${code}) ${reason}`);
    // the reply echoes the client's code (§5.5.1); without one, an empty close frame
    this.leave(error, encodeClose(code));
  }

  // --- the upgrade

  private readHead(bytes: Uint8Array): void {
    const from = this.head === null ? 0 : resumeFrom(this.head.length);
    const buffered = this.head === null ? bytes : concat(this.head, bytes);
    const end = headEnd(buffered, from);
    if (end < 0) {
      if (buffered.length > MAX_HEAD_BYTES) this.refuseUpgrade(refuse(431, "request head too large"));
      // the socket's read buffer is reused after this call: keep a copy
      else this.head = buffered === bytes ? bytes.slice() : buffered;
      return;
    }
    this.head = null;
    this.stopTimer();
    const answer = answerUpgrade(buffered.subarray(0, end), { path: this.settings.path });
    if (!answer.ok) {
      this.refuseUpgrade(answer);
      return;
    }
    const decoder = this.accept(answer.response);
    // a client may send its first frames right behind the head
    if (end < buffered.length && !this.finished) this.decode(decoder, buffered.subarray(end));
  }

  private accept(response: string): FrameDecoder {
    const { settings, peer } = this;
    const transport = new WsTransport(this, {
      ...peer,
      listener: settings.listener,
      ...(settings.highWaterBytes ? { highWaterBytes: settings.highWaterBytes } : {}),
    });
    const decoder = new FrameDecoder(settings.maxMessageBytes);
    this.transport = transport;
    this.decoder = decoder;
    transport.sendRaw(encoder.encode(response));
    transport.sink = settings.core.accept(transport);
    return decoder;
  }

  private refuseUpgrade(answer: Refusal): void {
    this.settings.log.debug("hub_ws_upgrade_refused", {
      listener: this.settings.listener,
      remote: this.peer.remoteAddress,
      status: answer.status,
      reason: answer.reason,
    });
    this.finished = true;
    this.stopTimer();
    this.socket.write(encoder.encode(answer.response));
    this.socket.end();
  }

  private handshakeTimedOut(): void {
    this.timer = undefined;
    if (this.finished || this.decoder !== undefined) return;
    this.settings.log.debug("hub_ws_upgrade_timeout", {
      listener: this.settings.listener,
      remote: this.peer.remoteAddress,
    });
    this.terminate();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  // --- frames

  private decode(decoder: FrameDecoder, bytes: Uint8Array): void {
    try {
      decoder.push(bytes, this);
    } catch (err) {
      if (!(err instanceof WsProtocolError)) throw err;
      this.settings.log.debug("hub_ws_protocol_error", {
        listener: this.settings.listener,
        remote: this.peer.remoteAddress,
        close_code: err.closeCode,
        error: err.message,
      });
      this.leave(err, encodeClose(err.closeCode, err.message));
    }
  }

  /** The client closed or broke the protocol: the core hears it now, the client gets `closeFrame`. */
  private leave(error: Error | undefined, closeFrame: Uint8Array): void {
    // a close frame behind a half-sent one would be read as its payload: then only the TCP end
    const idle = (this.transport?.buffered ?? 0) === 0;
    this.transport?.onClose(error);
    if (this.finished) return;
    this.finished = true;
    if (idle) this.socket.write(closeFrame);
    this.socket.end();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
