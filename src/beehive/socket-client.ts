// The BusContext of a child process: every call becomes a request to the master over the unix socket,
// deliveries for this process's modules land in local inboxes; reconnects (backoff) and re-registers.
// While disconnected, calls wait for the connection (failFast ones fail); a call written but unanswered
// when the connection drops fails with ERR_CLOSED (details.delivery "unknown"), never resent blindly.

import type { Socket } from "bun";
import { type Clock, systemClock } from "../lib/clock.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
import { contextClosed, moduleCleanedUp, unknownModule } from "./bus-errors.ts";
import { ClientDialer } from "./client-dialer.ts";
import { ClientInbox } from "./client-inbox.ts";
import {
  asMessage,
  asMessages,
  ClientRequests,
  ignoreValue,
  type Reply,
  syncTimeout,
} from "./client-requests.ts";
import { type Codec, type CodecName, codecByName, jsonCodec } from "./codec.ts";
import { type BusContext, DEFAULT_SYNC_TIMEOUT_MS, type SendOptions } from "./context.ts";
import { FrameSocket } from "./frame-socket.ts";
import type { Message } from "./model.ts";
import { RESOLVED } from "./module-queue.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "./packer.ts";
import { type ClientFrame, type ModuleRegistration, parseServerFrame } from "./protocol.ts";
import type { BusStats, ModuleStats } from "./stats.ts";

export interface SocketClientDeps {
  /** The master's bus socket, e.g. `var/run/openedge.bus`. */
  path: string;
  codec?: Codec | CodecName;
  log?: Logger;
  clock?: Clock;
  maxFrameBytes?: number;
  backoff?: Partial<BackoffOptions>;
  /** Timeout of a sync send that names none (openedge.yml `bus.timeout`; default 30 s). */
  syncTimeoutMs?: number;
}

export class SocketClientContext implements BusContext {
  private readonly path: string;
  private readonly codec: Codec;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly maxFrameBytes: number;
  private readonly backoff: BackoffOptions;
  private readonly syncTimeoutMs: number;
  private readonly inboxes = new Map<string, ClientInbox>();
  private readonly requests: ClientRequests;
  private readonly acksDue = new Set<ClientInbox>();
  private readonly onConsumed = (inbox: ClientInbox) => {
    this.acksDue.add(inbox);
    this.fs?.scheduleLazy();
  };
  private fs: FrameSocket | null = null;
  private ready = false;
  private closed = false;
  private readonly dialer: ClientDialer;
  private readyWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private connections = 0;

  constructor(deps: SocketClientDeps) {
    this.path = deps.path;
    const codec = typeof deps.codec === "string" ? codecByName(deps.codec) : deps.codec;
    this.codec = codec ?? jsonCodec;
    this.log = (deps.log ?? silentLogger).child({ component: "beehive", socket: deps.path });
    this.clock = deps.clock ?? systemClock;
    this.maxFrameBytes = deps.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.backoff = { ...DEFAULT_BACKOFF, ...deps.backoff };
    this.syncTimeoutMs = deps.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    this.requests = new ClientRequests(this.clock);
    this.dialer = new ClientDialer({
      path: this.path,
      clock: this.clock,
      log: this.log,
      backoff: this.backoff,
      opened: (socket) => this.opened(socket),
      lost: (conn) => this.lost(conn as FrameSocket),
    });
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Starts connecting (retrying with backoff); resolves once the master has welcomed us. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(contextClosed());
    if (this.ready) return Promise.resolve();
    const waiting = new Promise<void>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
    if (this.fs === null && !this.dialer.pending) void this.dialer.dial();
    return waiting;
  }

  addModule(module: string, group?: string): void {
    if (this.closed) throw contextClosed();
    let inbox = this.inboxes.get(module);
    if (inbox === undefined) {
      inbox = new ClientInbox(module, this.onConsumed);
      this.inboxes.set(module, inbox);
    }
    if (group !== undefined && group !== "" && !inbox.groups.includes(group)) inbox.groups.push(group);
    if (this.ready) this.registerModule(inbox);
  }

  addModuleGroup(module: string, group: string): void {
    const inbox = this.inboxes.get(module);
    if (inbox === undefined) throw unknownModule(module);
    if (inbox.groups.includes(group)) return;
    inbox.groups.push(group);
    if (this.ready && inbox.registeredOn === this.fs) {
      this.request((r) => ({ k: "join", r, n: module, g: group }), null, false, 0, ignoreValue).catch(
        (error) => this.log.warn("bus_join_failed", { module, group, error: errorText(error) }),
      );
    }
  }

  cleanup(module: string): void {
    const inbox = this.inboxes.get(module);
    if (inbox === undefined) return;
    this.inboxes.delete(module);
    this.acksDue.delete(inbox);
    inbox.close(moduleCleanedUp(module));
    if (this.closed) return;
    this.request((r) => ({ k: "unreg", r, n: module }), null, false, 0, ignoreValue).catch((error) =>
      this.log.warn("bus_unregister_failed", { module, error: errorText(error) }),
    );
  }

  send(module: string, msg: Message, options?: SendOptions): Promise<void> {
    const failFast = options?.failFast === true;
    return this.request(
      (r) => ({ k: "send", r, d: module, f: failFast, m: msg }),
      msg.content,
      failFast,
      0,
      ignoreValue,
    );
  }

  receive(module: string): Promise<Message> {
    const inbox = this.inboxes.get(module);
    if (inbox === undefined) return Promise.reject(this.closed ? contextClosed() : unknownModule(module));
    return inbox.take();
  }

  tryReceive(module: string): Message | undefined {
    const inbox = this.inboxes.get(module);
    if (inbox === undefined) throw this.closed ? contextClosed() : unknownModule(module);
    return inbox.poll();
  }

  sendSync(module: string, msg: Message, timeoutMs = this.syncTimeoutMs): Promise<Message> {
    msg.header.sync = true;
    const deadline = this.clock.monotonic() + timeoutMs;
    return this.request(
      (r) => ({ k: "sync", r, d: module, t: this.remaining(deadline), m: msg }),
      msg.content,
      false,
      timeoutMs,
      asMessage,
      () => syncTimeout(msg, `"${module}"`, timeoutMs),
    );
  }

  sendResp(resp: Message): Promise<void> {
    if (resp.header.sync && this.ready && this.fs !== null) {
      // the master cannot refuse an answer to a sync request (it is delivered or dropped as late),
      // so it is sent without a reply to wait for
      try {
        this.fs.send({ k: "resp", r: 0, m: resp }, resp.content);
      } catch (error) {
        return Promise.reject(error);
      }
      return RESOLVED;
    }
    return this.request((r) => ({ k: "resp", r, m: resp }), resp.content, false, 0, ignoreValue);
  }

  sendToGroup(group: string, msg: Message, options?: SendOptions): Promise<void> {
    const failFast = options?.failFast === true;
    return this.request(
      (r) => ({ k: "group", r, d: group, f: failFast, m: msg }),
      msg.content,
      failFast,
      0,
      ignoreValue,
    );
  }

  sendToGroupSync(group: string, msg: Message, timeoutMs = this.syncTimeoutMs): Promise<Message[]> {
    msg.header.sync = true;
    const deadline = this.clock.monotonic() + timeoutMs;
    return this.request(
      (r) => ({ k: "gsync", r, d: group, t: this.remaining(deadline), m: msg }),
      msg.content,
      false,
      timeoutMs,
      asMessages,
      () => syncTimeout(msg, `group "${group}"`, timeoutMs),
    );
  }

  stats(): BusStats {
    const modules: ModuleStats[] = [];
    for (const inbox of this.inboxes.values()) {
      modules.push({
        name: inbox.name,
        groups: [...inbox.groups],
        remote: true,
        connected: this.ready,
        depth: inbox.depth,
        capacity: 0,
        inflight: 0,
        sent: inbox.delivered,
        received: inbox.consumed,
        dropped: inbox.duplicates,
        blockedSenders: 0,
        waitingReceivers: inbox.waitingReceivers,
      });
    }
    return {
      kind: "socket-client",
      modules,
      pendingSync: this.requests.pendingSync,
      lateResponses: this.requests.lateReplies,
      connected: this.ready,
      connections: this.connections,
    };
  }

  /** Requests written and not yet answered, plus those waiting for a connection. */
  pendingRequests(): number {
    return this.requests.pending;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dialer.stop();
    const error = contextClosed();
    this.fs?.close(true);
    this.fs = null;
    this.ready = false;
    this.requests.failAll(error);
    for (const inbox of this.inboxes.values()) inbox.close(error);
    for (const w of this.readyWaiters.splice(0)) w.reject(error);
  }

  // --- requests -------------------------------------------------------------------------------

  private request<T>(
    build: (r: number) => ClientFrame,
    binaryIn: unknown,
    failFast: boolean,
    timeoutMs: number,
    decode: (value: unknown) => T,
    timeoutError?: () => OpenEdgeError,
  ): Promise<T> {
    if (this.closed) return Promise.reject(contextClosed());
    if (!this.ready && failFast) {
      return Promise.reject(
        new OpenEdgeError("ERR_CLOSED", "bus connection is down", { details: { path: this.path } }),
      );
    }
    return this.requests.open(
      { build, binaryIn, decode, timeoutMs, timeoutError },
      this.ready ? this.fs : null,
    );
  }

  private remaining(deadline: number): number {
    return Math.max(1, Math.round(deadline - this.clock.monotonic()));
  }

  private registration(inbox: ClientInbox): ModuleRegistration {
    return { n: inbox.name, g: [...inbox.groups], e: inbox.epoch, a: inbox.lastConsumed };
  }

  private registerModule(inbox: ClientInbox): void {
    const fs = this.fs;
    if (fs === null || inbox.registeredOn === fs) return;
    inbox.registeredOn = fs;
    inbox.ackedSent = inbox.lastConsumed;
    const req = this.requests.make(
      (r) => ({ k: "reg", r, mod: this.registration(inbox) }),
      null,
      // synchronous: deliveries that follow this reply in the same chunk need the epoch already
      (reply) => {
        if (reply.k === "ok" && typeof reply.v === "object" && reply.v !== null) {
          const e = (reply.v as { e?: unknown }).e;
          if (typeof e === "string") inbox.setEpoch(e);
          return;
        }
        inbox.registeredOn = null;
        this.log.error("bus_registration_refused", {
          module: inbox.name,
          code: reply.k === "err" ? reply.c : "",
          error: reply.k === "err" ? reply.e : "",
        });
      },
      () => {},
    );
    this.requests.submit(req, fs);
  }

  // --- connection -----------------------------------------------------------------------------

  private opened(socket: Socket<undefined>): FrameSocket {
    const fs: FrameSocket = new FrameSocket(socket, {
      codec: this.codec,
      maxFrameBytes: this.maxFrameBytes,
      onFrame: (value) => this.onFrame(fs, value),
      onReject: (reason, error) =>
        this.log.warn("bus_frame_rejected", { reason, error: error.message, side: "client" }),
      beforeFlush: () => this.flushAcks(fs),
    });
    if (this.closed) {
      fs.close();
      return fs;
    }
    this.fs = fs;
    const mods: ModuleRegistration[] = [];
    for (const inbox of this.inboxes.values()) {
      inbox.registeredOn = fs;
      inbox.ackedSent = inbox.lastConsumed;
      mods.push(this.registration(inbox));
    }
    fs.send({ k: "hello", mods });
    return fs;
  }

  private onFrame(fs: FrameSocket, value: unknown): void {
    if (fs !== this.fs) return;
    const frame = parseServerFrame(value);
    if (frame === null) {
      this.log.warn("bus_frame_rejected", { reason: "bad_reply", side: "client" });
      fs.close();
      return;
    }
    switch (frame.k) {
      case "msg":
        this.inboxes.get(frame.n)?.push(frame.s, frame.m);
        return;
      case "ok":
      case "err":
        this.reply(frame);
        return;
      case "welcome":
        this.welcomed(fs, frame.mods);
        return;
    }
  }

  private reply(frame: Reply): void {
    if (frame.r === 0 && frame.k === "err") {
      this.log.error("bus_registration_refused", { code: frame.c, error: frame.e });
      return;
    }
    this.requests.reply(frame);
  }

  private welcomed(fs: FrameSocket, mods: { n: string; e: string }[]): void {
    for (const m of mods) this.inboxes.get(m.n)?.setEpoch(m.e);
    this.ready = true;
    this.dialer.succeeded();
    this.connections++;
    this.log.info("bus_connected", { modules: mods.map((m) => m.n), codec: this.codec.name });
    // modules added while the hello was on its way register now
    for (const inbox of this.inboxes.values()) if (inbox.registeredOn !== fs) this.registerModule(inbox);
    this.requests.flush(fs);
    for (const w of this.readyWaiters.splice(0)) w.resolve();
  }

  private flushAcks(fs: FrameSocket): void {
    if (this.acksDue.size === 0) return;
    for (const inbox of this.acksDue) {
      if (!inbox.pendingAck || inbox.registeredOn !== fs) continue;
      fs.send({ k: "ack", n: inbox.name, s: inbox.lastConsumed }, null);
      inbox.ackedSent = inbox.lastConsumed;
      inbox.forceAck = false;
    }
    this.acksDue.clear();
  }

  private lost(fs: FrameSocket): void {
    fs.closedByPeer();
    if (this.fs !== fs) return;
    this.fs = null;
    const wasReady = this.ready;
    this.ready = false;
    for (const inbox of this.inboxes.values()) inbox.registeredOn = null;
    const error = new OpenEdgeError("ERR_CLOSED", "bus connection lost before the master answered", {
      details: { path: this.path, delivery: "unknown" },
    });
    this.requests.failWritten(error);
    if (this.closed) return;
    this.log.warn("bus_disconnected", { path: this.path, wasReady });
    this.dialer.retry();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A client context with `modules` registered, connected (it keeps reconnecting by itself). */
export async function connectRemoteBus(
  deps: SocketClientDeps & { modules: { name: string; group?: string }[] },
): Promise<SocketClientContext> {
  const ctx = new SocketClientContext(deps);
  for (const m of deps.modules) ctx.addModule(m.name, m.group);
  await ctx.connect();
  return ctx;
}
