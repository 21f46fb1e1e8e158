// The caller's end of the invocation protocol: connects to a runtime instance's socket (retrying
// until it listens, within a deadline) and performs calls, each answered by parentId. Bun's own
// sockets through the bus's FrameSocket: node:net's streams cost ~50 µs more per round trip.

import type { Socket } from "bun";
import { type Codec, FrameSocket, jsonCodec } from "../beehive/index.ts";
import type { BusyPoller } from "../lib/busy-poll.ts";
import { type Clock, systemClock, type TimerHandle } from "../lib/clock.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import { buildCallMessage, type CallOutcome, type InvokeCall, parseAnswer } from "./protocol.ts";

/** A connection to one runtime instance, as the pool sees it. */
export interface RuntimeLink {
  /**
   * Resolves with the runtime's answer (errors a handler raised are `ok: false` outcomes); rejects
   * with ERR_TIMEOUT when no answer came within `timeoutMs`, ERR_CLOSED when the connection dropped.
   */
  call(call: InvokeCall, timeoutMs: number): Promise<CallOutcome>;
  /** Called once when the connection ends (not after `close()`). */
  onClose(listener: () => void): void;
  close(): void;
}

export interface ConnectOptions {
  /** Give up connecting after this many ms (the runtime may still be starting). */
  deadlineMs?: number;
  /** Pause between attempts once the first second has passed (2 ms before). */
  retryMs?: number;
  clock?: Clock;
  /** JSON (default; every runtime speaks it) or MessagePack (the JavaScript runtime only). */
  codec?: Codec;
  /** route.source of the calls. */
  source?: string;
  /** Checked between attempts: a reason here ends the attempts at once (ERR_ENGINE). */
  gone?: () => string | undefined;
  /** Extended at every call sent and answer taken, so answers find this process polling (`busypoll`). */
  busyPoll?: BusyPoller;
}

interface Pending {
  resolve: (outcome: CallOutcome) => void;
  reject: (error: Error) => void;
  timer: TimerHandle;
}

/** How long after the first attempt the connector polls every 2 ms. */
const FAST_POLL_MS = 1_000;

/** Frames of a single call or answer stay far below this; a bigger one is a broken stream. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export class RuntimeClient implements RuntimeLink {
  private readonly pending = new Map<string, Pending>();
  private readonly closeListeners: (() => void)[] = [];
  private ended = false;

  private readonly frames: FrameSocket;

  private constructor(
    readonly path: string,
    socket: Socket<undefined>,
    private readonly clock: Clock,
    codec: Codec,
    private readonly source: string,
    private readonly busyPoll: BusyPoller | undefined,
  ) {
    this.frames = new FrameSocket(socket, {
      codec,
      maxFrameBytes: MAX_FRAME_BYTES,
      onFrame: (value) => this.onAnswer(value),
      onReject: (reason) => this.end(`bad frame from the runtime (${reason})`),
    });
  }

  /** One connection attempt; rejects when nothing listens at `path`. */
  private static async dial(
    path: string,
    clock: Clock,
    codec: Codec,
    source: string,
    busyPoll: BusyPoller | undefined,
  ): Promise<RuntimeClient> {
    let client: RuntimeClient | null = null;
    let closedEarly = false;
    const socket = await Bun.connect<undefined>({
      unix: path,
      socket: {
        data: (_s, chunk) => client?.frames.data(chunk),
        drain: () => client?.frames.drain(),
        close: () => {
          closedEarly = client === null;
          client?.end("connection closed by the runtime");
        },
        error: () => {},
        connectError: () => {},
      },
    });
    client = new RuntimeClient(path, socket, clock, codec, source, busyPoll);
    if (closedEarly) client.end("connection closed by the runtime");
    return client;
  }

  /** Connects to the runtime listening on `path`, retrying until `deadlineMs` (default 10 s). */
  static async connect(path: string, options: ConnectOptions = {}): Promise<RuntimeClient> {
    const clock = options.clock ?? systemClock;
    const deadline = clock.monotonic() + (options.deadlineMs ?? 10_000);
    let lastError = "";
    const retryMs = options.retryMs ?? 20;
    const started = clock.monotonic();
    for (;;) {
      try {
        return await RuntimeClient.dial(
          path,
          clock,
          options.codec ?? jsonCodec,
          options.source ?? "function-manager",
          options.busyPoll,
        );
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
      }
      const reason = options.gone?.();
      if (reason !== undefined) {
        throw new OpenEdgeError("ERR_ENGINE", reason, { details: { path, error: lastError } });
      }
      if (clock.monotonic() >= deadline) {
        throw new OpenEdgeError("ERR_TIMEOUT", `runtime at "${path}" is not listening: ${lastError}`, {
          details: { path, error: lastError },
        });
      }
      // a runtime starts in tens of ms: poll every 2 ms for the first second (a refused unix connect
      // costs microseconds), so readiness is seen within ~2 ms of listening; then every retryMs
      await clock.sleep(clock.monotonic() - started < FAST_POLL_MS ? Math.min(2, retryMs) : retryMs);
    }
  }

  get closed(): boolean {
    return this.ended;
  }

  call(call: InvokeCall, timeoutMs: number): Promise<CallOutcome> {
    if (this.ended) {
      return Promise.reject(new OpenEdgeError("ERR_CLOSED", `runtime at "${this.path}" is disconnected`));
    }
    const msg = buildCallMessage(call, this.source);
    return new Promise<CallOutcome>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(msg.header.id);
        reject(
          new OpenEdgeError(
            "ERR_TIMEOUT",
            `function "${call.functionName}" gave no answer within ${timeoutMs} ms`,
            { details: { path: this.path, function: call.functionName, timeoutMs } },
          ),
        );
      }, timeoutMs);
      this.pending.set(msg.header.id, { resolve, reject, timer });
      this.frames.send(msg, msg.content);
      this.busyPoll?.extend();
    });
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  close(): void {
    this.closeListeners.length = 0;
    this.end("connection closed by the caller");
  }

  private onAnswer(value: unknown): void {
    const answer = parseAnswer(value);
    if (answer === null) return;
    const waiter = this.pending.get(answer.parentId);
    if (waiter === undefined) return; // an answer after its call timed out
    this.pending.delete(answer.parentId);
    waiter.timer.cancel();
    this.busyPoll?.extend();
    waiter.resolve(answer.outcome);
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.frames.close();
    const error = new OpenEdgeError("ERR_CLOSED", `runtime at "${this.path}": ${reason}`, {
      details: { path: this.path },
    });
    for (const waiter of this.pending.values()) {
      waiter.timer.cancel();
      waiter.reject(error);
    }
    this.pending.clear();
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
