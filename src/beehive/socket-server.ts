// Master side of the socket context: listens on a unix socket (0600, stale file removed), accepts
// remote modules into the master's channel context as queues drained by their connections.

import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import type { Socket, UnixSocketListener } from "bun";
import { OpenEdgeError } from "../lib/errors.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import type { ChannelContext } from "./channel-context.ts";
import { jsonCodec } from "./codec.ts";
import { errorResponseTo, type Message } from "./model.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "./packer.ts";
import type { ModuleRegistration, WelcomeModule } from "./protocol.ts";
import { RemoteLink } from "./remote-link.ts";
import { type ConnectionHost, ServerConnection } from "./server-connection.ts";
import type { BusStats } from "./stats.ts";

export const DEFAULT_DELIVERY_WINDOW = 1024;

export interface SocketServerDeps {
  /** The master's context: local modules live in it, remote ones are added to it. */
  context: ChannelContext;
  /** Unix socket path, e.g. `var/run/openedge.bus`. */
  path: string;
  log?: Logger;
  maxFrameBytes?: number;
  /** Messages written to a remote module and not yet acknowledged, at most. */
  window?: number;
}

type ConnSocket = Socket<ServerConnection | undefined>;

export class SocketServer implements ConnectionHost {
  readonly context: ChannelContext;
  readonly path: string;
  private readonly log: Logger;
  private readonly maxFrameBytes: number;
  private readonly window: number;
  private readonly conns = new Set<ServerConnection>();
  private listener: UnixSocketListener<ServerConnection | undefined> | null = null;
  private nextConnId = 1;
  private rejectedFrames = 0;

  constructor(deps: SocketServerDeps) {
    this.context = deps.context;
    this.path = deps.path;
    this.log = (deps.log ?? silentLogger).child({ component: "beehive", socket: deps.path });
    this.maxFrameBytes = deps.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.window = deps.window ?? DEFAULT_DELIVERY_WINDOW;
  }

  async listen(): Promise<void> {
    if (this.listener !== null) return;
    mkdirSync(dirname(this.path), { recursive: true });
    await removeStaleSocket(this.path);
    this.listener = Bun.listen<ServerConnection | undefined>({
      unix: this.path,
      socket: {
        open: (socket) => this.opened(socket),
        data: (socket, chunk) => socket.data?.fs.data(chunk),
        drain: (socket) => socket.data?.fs.drain(),
        close: (socket) => this.closed(socket),
        error: (socket, error) => {
          this.log.warn("bus_connection_error", { conn: socket.data?.id, error: error.message });
        },
      },
    });
    chmodSync(this.path, 0o600);
    this.log.info("bus_listening", { path: this.path });
  }

  /** Closes every connection and the listener; remote modules' queues stay in the context. */
  async close(): Promise<void> {
    for (const conn of [...this.conns]) conn.fs.close();
    this.listener?.stop(true);
    this.listener = null;
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  /** Drops every connection but keeps listening (clients reconnect by themselves). */
  disconnectAll(): void {
    for (const conn of [...this.conns]) conn.fs.close();
  }

  stats(): BusStats {
    return { ...this.context.stats(), connections: this.conns.size, rejectedFrames: this.rejectedFrames };
  }

  register(conn: ServerConnection, reg: ModuleRegistration): { welcome: WelcomeModule; attach: () => void } {
    const name = reg.n;
    let link = this.link(name);
    const holder = link?.connection;
    if (holder !== undefined && holder !== null && holder !== conn) {
      throw new OpenEdgeError("ERR_CONFLICT", `module "${name}" is already connected`, {
        details: { module: name, conn: holder.id },
      });
    }
    if (link === undefined) {
      if (this.context.queue(name) !== undefined) {
        throw new OpenEdgeError("ERR_CONFLICT", `module "${name}" is a local module of the master`, {
          details: { module: name },
        });
      }
      link = this.createLink(name);
    }
    for (const group of reg.g) this.context.addModuleGroup(name, group);
    conn.modules.add(name);
    const created = link;
    return {
      welcome: { n: name, e: created.epoch },
      attach: () => {
        if (conn.fs.isClosed) return;
        const queued = created.queue.depth;
        const resent = created.attach(conn, reg.e, reg.a);
        this.log.info("bus_remote_module_attached", { module: name, conn: conn.id, resent, queued });
      },
    };
  }

  ack(conn: ServerConnection, module: string, seq: number): void {
    const link = this.link(module);
    if (link !== undefined && link.connection === conn) link.ack(seq);
  }

  unregister(conn: ServerConnection, module: string): void {
    const link = this.link(module);
    if (link === undefined) return;
    const holder = link.connection;
    if (holder !== null && holder !== conn) {
      throw new OpenEdgeError("ERR_CONFLICT", `module "${module}" is held by another connection`, {
        details: { module },
      });
    }
    conn.modules.delete(module);
    this.context.cleanup(module);
  }

  rejected(conn: ServerConnection, reason: string, error: Error): void {
    this.rejectedFrames++;
    const details = error instanceof OpenEdgeError ? error.details : {};
    this.log.warn("bus_frame_rejected", {
      reason,
      conn: conn.id,
      modules: [...conn.modules],
      error: error.message,
      ...details,
    });
  }

  private createLink(name: string): RemoteLink {
    this.context.addModule(name);
    const queue = this.context.queue(name);
    if (queue === undefined) throw new OpenEdgeError("ERR_INTERNAL", `queue of "${name}" vanished`);
    const link = new RemoteLink(name, queue, this.window, (msg, error) =>
      this.undeliverable(name, msg, error),
    );
    queue.remote = link;
    queue.onClose = () => {
      const holder = link.connection;
      if (holder !== null) link.detach(holder);
    };
    return link;
  }

  /** The link lives on the queue, so a server restarted on the same context finds its remotes again. */
  private link(module: string): RemoteLink | undefined {
    const remote = this.context.queue(module)?.remote;
    return remote instanceof RemoteLink ? remote : undefined;
  }

  private undeliverable(module: string, msg: Message, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.log.error("bus_message_undeliverable", {
      module,
      id: msg.header.id,
      source: msg.route.source,
      reason,
    });
    // a waiting sendSync hears it as an error response rather than a timeout
    if (msg.header.sync) {
      void this.context.sendResp(
        errorResponseTo(msg, "ERR_FRAME", `message cannot be encoded for "${module}": ${reason}`),
      );
    }
  }

  private opened(socket: ConnSocket): void {
    const conn = new ServerConnection(this.nextConnId++, socket, this, jsonCodec, this.maxFrameBytes);
    socket.data = conn;
    this.conns.add(conn);
    this.log.debug("bus_connection_opened", { conn: conn.id });
  }

  private closed(socket: ConnSocket): void {
    const conn = socket.data;
    if (conn === undefined) return;
    socket.data = undefined;
    conn.fs.closedByPeer();
    this.conns.delete(conn);
    for (const name of conn.modules) {
      const link = this.link(name);
      if (link !== undefined) link.detach(conn);
    }
    if (conn.modules.size > 0) {
      this.log.info("bus_remote_disconnected", { conn: conn.id, modules: [...conn.modules] });
    }
  }
}

/** Removes a socket file left by a dead master; refuses when a live one still answers on it. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) {
    throw new OpenEdgeError("ERR_CONFLICT", `bus socket path "${path}" exists and is not a socket`, {
      details: { path },
    });
  }
  let alive = false;
  try {
    const probe = await Bun.connect({ unix: path, socket: { data() {} } });
    alive = true;
    probe.end();
  } catch {
    // refused: nobody listens, the file is stale
  }
  if (alive) {
    throw new OpenEdgeError("ERR_LOCKED", `bus socket "${path}" is in use by another process`, {
      details: { path },
    });
  }
  unlinkSync(path);
}
