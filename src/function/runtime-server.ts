// The socket side of a runtime instance: listens on the instance's unix socket, decodes packer frames
// into call messages for the RuntimeCore and writes each answer back in the codec the call came in.

import { mkdirSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { type Codec, encodeFrame, FrameDecoder, isMessage } from "../beehive/index.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { type Invoker, RuntimeCore } from "./runtime-core.ts";

export interface RuntimeServerDeps {
  /** Absolute socket path. */
  path: string;
  invoker: Invoker;
  log?: Logger;
}

export class RuntimeServer {
  private readonly core: RuntimeCore;
  private readonly log: Logger;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly deps: RuntimeServerDeps) {
    this.core = new RuntimeCore(deps.invoker);
    this.log = deps.log ?? silentLogger;
  }

  /** Starts listening (a stale socket file left by a crashed instance is replaced). */
  async listen(): Promise<void> {
    const { path } = this.deps;
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (cause) =>
        reject(new OpenEdgeError("ERR_IO", `cannot listen on "${path}": ${cause.message}`, { cause })),
      );
      server.listen(path, () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.deps.path, { force: true });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const decoder = new FrameDecoder((value, codec) => this.onFrame(socket, value, codec));
    socket.on("data", (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (error) {
        // a broken frame leaves the stream unusable: drop this caller, keep serving others
        this.log.warn("function_frame_rejected", {
          error: error instanceof Error ? error.message : String(error),
        });
        socket.destroy();
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => this.sockets.delete(socket));
  }

  private onFrame(socket: Socket, value: unknown, codec: Codec): void {
    if (!isMessage(value)) {
      this.log.warn("function_frame_rejected", { error: "frame body is not a beehive message" });
      socket.destroy();
      return;
    }
    void this.core.handle(value).then((answer) => {
      if (socket.destroyed) return;
      try {
        socket.write(encodeFrame(codec, answer));
      } catch (error) {
        this.log.error("function_answer_unencodable", {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    });
  }
}
