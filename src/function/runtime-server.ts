// The socket side of a runtime instance: listens on the instance's unix socket, decodes packer frames
// into call messages for the RuntimeCore and writes each answer back in the codec the call came in.

import { mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Socket, UnixSocketListener } from "bun";
import { type Codec, FrameSocket, isMessage, jsonCodec } from "../beehive/index.ts";
import { BusyPoller } from "../lib/busy-poll.ts";
import { systemClock } from "../lib/clock.ts";
import { errorMessage, OpenEdgeError } from "../lib/errors.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { type Invoker, RuntimeCore } from "./runtime-core.ts";

/** A call far past any message size the manager accepts is a broken stream. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

interface Caller {
  frames?: FrameSocket<Caller>;
}

export interface RuntimeServerDeps {
  /** Absolute socket path. */
  path: string;
  invoker: Invoker;
  log?: Logger;
  /** `busypoll`: keep the loop polling up to this long (ms) after each answer (see BusyPoller). */
  busyPollMs?: number;
}

export class RuntimeServer {
  private readonly core: RuntimeCore;
  private readonly log: Logger;
  private server: UnixSocketListener<Caller> | null = null;
  private readonly callers = new Set<FrameSocket<Caller>>();
  private readonly busyPoll: BusyPoller;

  constructor(private readonly deps: RuntimeServerDeps) {
    this.core = new RuntimeCore(deps.invoker);
    this.log = deps.log ?? silentLogger;
    this.busyPoll = new BusyPoller(deps.busyPollMs ?? 0, systemClock);
  }

  /** Starts listening (a stale socket file left by a crashed instance is replaced). */
  async listen(): Promise<void> {
    const { path } = this.deps;
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    try {
      this.server = Bun.listen<Caller>({
        unix: path,
        socket: {
          open: (socket) => this.accept(socket),
          data: (socket, chunk) => socket.data.frames?.data(chunk),
          drain: (socket) => socket.data.frames?.drain(),
          close: (socket) => {
            const frames = socket.data.frames;
            if (frames === undefined) return;
            frames.closedByPeer();
            this.callers.delete(frames);
          },
          error: () => {},
        },
      });
    } catch (cause) {
      throw new OpenEdgeError("ERR_IO", `cannot listen on "${path}": ${errorMessage(cause)}`, { cause });
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.busyPoll.stop();
    for (const frames of this.callers) frames.close();
    this.callers.clear();
    server?.stop(true);
    rmSync(this.deps.path, { force: true });
  }

  private accept(socket: Socket<Caller>): void {
    const frames: FrameSocket<Caller> = new FrameSocket(socket, {
      codec: jsonCodec,
      maxFrameBytes: MAX_FRAME_BYTES,
      onFrame: (value, codec) => this.onFrame(frames, value, codec),
      // a broken frame leaves the stream unusable: drop this caller, keep serving others
      onReject: (_reason, error) => this.log.warn("function_frame_rejected", { error: error.message }),
    });
    socket.data = { frames };
    this.callers.add(frames);
  }

  private onFrame(frames: FrameSocket<Caller>, value: unknown, codec: Codec): void {
    if (!isMessage(value)) {
      this.log.warn("function_frame_rejected", { error: "frame body is not a beehive message" });
      frames.close();
      return;
    }
    this.core.handle(value, (answer) => {
      if (frames.isClosed) return;
      // answers go back in the codec the call came in, each at once rather than batched with the
      // turn's others: the caller works on one while this runtime computes the next (8 calls in flight
      // to one instance: 10-11k → 16-18k calls/s here)
      frames.codec = codec;
      try {
        frames.send(answer, answer.content);
        frames.flushNow();
      } catch (error) {
        this.log.error("function_answer_unencodable", { error: errorMessage(error) });
      }
      this.busyPoll.extend();
    });
  }
}
