// The socket client's requests: each call to the master gets a request number and exactly one reply
// (or a local timeout / connection loss); requests made while disconnected wait in an outbox.

import type { Clock, TimerHandle } from "../lib/clock.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import { wireErrorCode } from "./bus-errors.ts";
import type { FrameSocket } from "./frame-socket.ts";
import { isMessage, type Message } from "./model.ts";
import type { ClientFrame, ServerFrame } from "./protocol.ts";
import { Ring } from "./ring.ts";

/** Extra wait after a sync request's timeout, so the master's own verdict can arrive first. */
const SYNC_GRACE_MS = 1000;

export type Reply = Extract<ServerFrame, { k: "ok" | "err" }>;

export interface ClientRequest {
  readonly r: number;
  readonly build: (r: number) => ClientFrame;
  /** The only part of the frame that may hold bytes (the message's content), for the JSON codec. */
  readonly binaryIn: unknown;
  /** Called synchronously with the reply (deliveries after it in the same chunk rely on that). */
  readonly settle: (reply: Reply) => void;
  readonly fail: (error: Error) => void;
  written: boolean;
  done: boolean;
  timer: TimerHandle | null;
}

export interface RequestSpec<T> {
  build: (r: number) => ClientFrame;
  binaryIn: unknown;
  decode: (value: unknown) => T;
  /** With a timeout, the request fails locally with `timeoutError()` if no reply came in time. */
  timeoutMs?: number;
  timeoutError?: () => OpenEdgeError;
}

export class ClientRequests {
  private readonly written = new Map<number, ClientRequest>();
  private readonly outbox = new Ring<ClientRequest>(16);
  private nextR = 1;
  /** Replies that came after their caller gave up. */
  lateReplies = 0;

  constructor(private readonly clock: Clock) {}

  /** Requests written and not yet answered, plus those waiting for a connection. */
  get pending(): number {
    let n = this.written.size;
    for (const req of this.outbox) if (!req.done) n++;
    return n;
  }

  /** Pending requests with a timeout (sync ones). */
  get pendingSync(): number {
    let n = 0;
    for (const req of this.written.values()) if (req.timer !== null) n++;
    for (const req of this.outbox) if (!req.done && req.timer !== null) n++;
    return n;
  }

  /** Sends now on `fs`, or queues until `flush` when it is null. */
  open<T>(spec: RequestSpec<T>, fs: FrameSocket | null): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = this.make(
        spec.build,
        spec.binaryIn,
        (reply) => {
          if (reply.k === "err") {
            reject(new OpenEdgeError(wireErrorCode(reply.c), reply.e, { details: reply.d ?? {} }));
            return;
          }
          try {
            resolve(spec.decode(reply.v));
          } catch (error) {
            reject(error);
          }
        },
        reject,
      );
      const { timeoutMs, timeoutError } = spec;
      if (timeoutMs !== undefined && timeoutMs > 0 && timeoutError !== undefined) {
        req.timer = this.clock.setTimeout(() => this.expire(req, timeoutError, true), timeoutMs);
      }
      this.submit(req, fs);
    });
  }

  /** A request with its own synchronous reply handling (registration). */
  make(
    build: (r: number) => ClientFrame,
    binaryIn: unknown,
    settle: (reply: Reply) => void,
    fail: (error: Error) => void,
  ): ClientRequest {
    return { r: this.nextR++, build, binaryIn, settle, fail, written: false, done: false, timer: null };
  }

  submit(req: ClientRequest, fs: FrameSocket | null): void {
    if (fs === null) this.outbox.push(req);
    else this.write(req, fs);
  }

  /** Writes what waited for a connection, in order. */
  flush(fs: FrameSocket): void {
    for (let req = this.outbox.shift(); req !== undefined; req = this.outbox.shift()) {
      if (!req.done) this.write(req, fs);
    }
  }

  reply(frame: Reply): void {
    const req = this.written.get(frame.r);
    if (req === undefined) {
      // its caller gave up (timeout) already: dropped and counted, never thrown
      this.lateReplies++;
      return;
    }
    this.written.delete(frame.r);
    if (req.done) return;
    req.done = true;
    req.timer?.cancel();
    req.settle(frame);
  }

  /** The connection died: what was written may or may not have been done; its callers must know. */
  failWritten(error: Error): void {
    for (const req of this.written.values()) this.finish(req, error);
    this.written.clear();
  }

  failAll(error: Error): void {
    this.failWritten(error);
    for (const req of this.outbox.drain()) this.finish(req, error);
  }

  private write(req: ClientRequest, fs: FrameSocket): void {
    this.written.set(req.r, req);
    try {
      fs.send(req.build(req.r), req.binaryIn);
    } catch (error) {
      this.written.delete(req.r);
      this.finish(req, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    req.written = true;
  }

  private expire(req: ClientRequest, timeoutError: () => OpenEdgeError, first: boolean): void {
    if (req.done) return;
    if (first && req.written) {
      // the master times it out too; give its answer a moment to arrive before deciding here
      req.timer = this.clock.setTimeout(() => this.expire(req, timeoutError, false), SYNC_GRACE_MS);
      return;
    }
    req.timer = null;
    this.written.delete(req.r);
    this.finish(req, timeoutError());
  }

  private finish(req: ClientRequest, error: Error): void {
    if (req.done) return;
    req.done = true;
    req.timer?.cancel();
    req.fail(error);
  }
}

// --- reply decoders and local errors ---

export function ignoreValue(): void {}

export function asMessage(value: unknown): Message {
  if (!isMessage(value))
    throw new OpenEdgeError("ERR_FRAME", "master answered a sync request without a message");
  return value;
}

export function asMessages(value: unknown): Message[] {
  if (!Array.isArray(value) || !value.every(isMessage)) {
    throw new OpenEdgeError("ERR_FRAME", "master answered a group sync request without messages");
  }
  return value;
}

export function syncTimeout(msg: Message, target: string, timeoutMs: number): OpenEdgeError {
  const route = msg.route;
  return new OpenEdgeError(
    "ERR_TIMEOUT",
    `no response to message ${msg.header.id} (${route.operation} ${route.resource} from "${route.source}") from ${target} within ${timeoutMs}ms`,
    { details: { id: msg.header.id, route, timeoutMs } },
  );
}
