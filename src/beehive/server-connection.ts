// Master side of one client connection: turns each request frame into a call on the master's channel
// context and writes exactly one reply; writes deliveries for the remote modules it holds.

import type { Socket } from "bun";
import { isOpenEdgeError, OpenEdgeError } from "../lib/errors.ts";
import type { ChannelContext } from "./channel-context.ts";
import type { Codec } from "./codec.ts";
import type { SendOptions } from "./context.ts";
import { FrameSocket } from "./frame-socket.ts";
import { isMessage, type Message } from "./model.ts";
import { RESOLVED } from "./module-queue.ts";
import {
  type ClientFrame,
  type ModuleRegistration,
  parseClientFrame,
  type WelcomeModule,
} from "./protocol.ts";
import type { LinkConnection } from "./remote-link.ts";

/** What a connection needs from the server that accepted it. */
export interface ConnectionHost {
  readonly context: ChannelContext;
  /** Claims `reg.n` for `conn`; returns the welcome entry and a function that starts deliveries. */
  register(conn: ServerConnection, reg: ModuleRegistration): { welcome: WelcomeModule; attach: () => void };
  ack(conn: ServerConnection, module: string, seq: number): void;
  unregister(conn: ServerConnection, module: string): void;
  rejected(conn: ServerConnection, reason: string, error: Error): void;
}

const FAIL_FAST: SendOptions = { failFast: true };

export class ServerConnection implements LinkConnection {
  readonly fs: FrameSocket<ServerConnection | undefined>;
  /** Remote modules this connection holds. */
  readonly modules = new Set<string>();
  private greeted = false;

  constructor(
    readonly id: number,
    socket: Socket<ServerConnection | undefined>,
    private readonly host: ConnectionHost,
    codec: Codec,
    maxFrameBytes: number,
  ) {
    this.fs = new FrameSocket(socket, {
      codec,
      maxFrameBytes,
      onFrame: (value, frameCodec) => this.onFrame(value, frameCodec),
      onReject: (reason, error) => host.rejected(this, reason, error),
    });
  }

  deliver(module: string, seq: number, msg: Message): void {
    this.fs.send({ k: "msg", n: module, s: seq, m: msg }, msg.content);
  }

  /** Closes the connection for a protocol violation (logged by the host). */
  reject(reason: string, error: Error): void {
    this.host.rejected(this, reason, error);
    this.fs.close();
  }

  private onFrame(value: unknown, codec: Codec): void {
    if (this.fs.isClosed) return;
    const frame = parseClientFrame(value);
    if (frame === null) {
      this.reject("bad_request", new OpenEdgeError("ERR_FRAME", "frame body is not a bus request"));
      return;
    }
    if (!this.greeted) {
      if (frame.k !== "hello") {
        this.reject(
          "no_hello",
          new OpenEdgeError("ERR_FRAME", `first frame must be hello, got "${frame.k}"`),
        );
        return;
      }
      // replies use the codec the client chose
      this.fs.codec = codec;
      this.greeted = true;
    }
    this.handle(frame);
  }

  private handle(f: ClientFrame): void {
    const ctx = this.host.context;
    switch (f.k) {
      case "send":
        this.reply(f.r, ctx.send(f.d, f.m, f.f ? FAIL_FAST : undefined));
        return;
      case "group":
        this.reply(f.r, ctx.sendToGroup(f.d, f.m, f.f ? FAIL_FAST : undefined));
        return;
      case "sync":
        this.reply(f.r, ctx.sendSync(f.d, f.m, f.t));
        return;
      case "gsync":
        this.reply(f.r, ctx.sendToGroupSync(f.d, f.m, f.t));
        return;
      case "resp":
        // r 0: an answer to a sync request, which is never refused (a late one is dropped): no reply
        if (f.r === 0) void ctx.sendResp(f.m);
        else this.reply(f.r, ctx.sendResp(f.m));
        return;
      case "ack":
        this.host.ack(this, f.n, f.s);
        return;
      case "hello":
        this.hello(f.mods);
        return;
      case "reg":
        this.registerOne(f.r, f.mod);
        return;
      case "join":
        this.call(f.r, () => {
          this.owned(f.n);
          ctx.addModuleGroup(f.n, f.g);
        });
        return;
      case "unreg":
        this.call(f.r, () => this.host.unregister(this, f.n));
        return;
    }
  }

  private hello(mods: ModuleRegistration[]): void {
    const started: { welcome: WelcomeModule; attach: () => void }[] = [];
    try {
      for (const mod of mods) started.push(this.host.register(this, mod));
    } catch (error) {
      // the client hears why before the close; modules claimed so far are released by the close
      this.fs.send({ k: "err", r: 0, ...errorFields(error) });
      this.host.rejected(
        this,
        "registration_refused",
        error instanceof Error ? error : new Error(String(error)),
      );
      this.fs.close(true);
      return;
    }
    this.fs.send({ k: "welcome", mods: started.map((s) => s.welcome) });
    // deliveries (and resends) only after the welcome, which tells the client the epoch
    for (const s of started) s.attach();
  }

  private registerOne(r: number, mod: ModuleRegistration): void {
    let started: { welcome: WelcomeModule; attach: () => void };
    try {
      started = this.host.register(this, mod);
    } catch (error) {
      this.fail(r, error);
      return;
    }
    this.fs.send({ k: "ok", r, v: started.welcome });
    started.attach();
  }

  private owned(module: string): void {
    if (!this.modules.has(module)) {
      throw new OpenEdgeError("ERR_CONFLICT", `module "${module}" is not registered on this connection`, {
        details: { module },
      });
    }
  }

  private call(r: number, fn: () => void): void {
    try {
      fn();
      this.fs.send({ k: "ok", r }, null);
    } catch (error) {
      this.fail(r, error);
    }
  }

  private reply(r: number, result: Promise<unknown>): void {
    if (result === RESOLVED) {
      this.fs.send({ k: "ok", r }, null);
      return;
    }
    result.then(
      (value) => this.succeed(r, value),
      (error: unknown) => this.fail(r, error),
    );
  }

  private succeed(r: number, value: unknown): void {
    try {
      if (value === undefined) this.fs.send({ k: "ok", r }, null);
      else this.fs.send({ k: "ok", r, v: value }, isMessage(value) ? value.content : value);
    } catch (error) {
      this.fail(r, error);
    }
  }

  private fail(r: number, error: unknown): void {
    const fields = errorFields(error);
    try {
      this.fs.send({ k: "err", r, ...fields });
    } catch {
      this.fs.send({ k: "err", r, c: fields.c, e: fields.e });
    }
  }
}

function errorFields(error: unknown): { c: string; e: string; d: Record<string, unknown> } {
  if (isOpenEdgeError(error)) return { c: error.code, e: error.message, d: error.details };
  return { c: "ERR_INTERNAL", e: error instanceof Error ? error.message : String(error), d: {} };
}
