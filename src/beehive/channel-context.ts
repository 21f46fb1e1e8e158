// The in-process BusContext: a bounded queue per module, group membership and the sync table. On the
// master it also holds the queues of remote modules, which the socket server drains into connections.

import { type Clock, systemClock } from "../lib/clock.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { contextClosed, moduleCleanedUp, queueFull, unknownModule } from "./bus-errors.ts";
import {
  type BusContext,
  DEFAULT_QUEUE_CAPACITY,
  DEFAULT_SYNC_TIMEOUT_MS,
  type SendOptions,
} from "./context.ts";
import type { Message } from "./model.ts";
import { ModuleQueue, RESOLVED } from "./module-queue.ts";
import type { BusStats, ModuleStats } from "./stats.ts";
import { SyncWaiters } from "./sync-waiters.ts";

export interface ChannelContextDeps {
  log?: Logger;
  clock?: Clock;
  /** Capacity of each module's queue (default 1024). */
  capacity?: number;
  /** Timeout of a sync send that names none (openedge.yml `bus.timeout`; default 30 s). */
  syncTimeoutMs?: number;
}

export class ChannelContext implements BusContext {
  private readonly queues = new Map<string, ModuleQueue>();
  private readonly groups = new Map<string, string[]>();
  private readonly waiters: SyncWaiters;
  private readonly log: Logger;
  private readonly capacity: number;
  private readonly syncTimeoutMs: number;
  private lateResponses = 0;
  private closed = false;

  constructor(deps: ChannelContextDeps = {}) {
    this.log = (deps.log ?? silentLogger).child({ component: "beehive" });
    this.waiters = new SyncWaiters(deps.clock ?? systemClock);
    this.capacity = deps.capacity ?? DEFAULT_QUEUE_CAPACITY;
    this.syncTimeoutMs = deps.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
  }

  addModule(module: string, group?: string): void {
    this.ensureOpen();
    if (!this.queues.has(module)) this.queues.set(module, new ModuleQueue(module, this.capacity));
    if (group !== undefined && group !== "") this.addModuleGroup(module, group);
  }

  addModuleGroup(module: string, group: string): void {
    const queue = this.queues.get(module);
    if (queue === undefined) throw unknownModule(module);
    if (queue.groups.includes(group)) return;
    queue.groups.push(group);
    const members = this.groups.get(group);
    if (members === undefined) this.groups.set(group, [module]);
    else members.push(module);
  }

  cleanup(module: string): void {
    const queue = this.queues.get(module);
    if (queue === undefined) return;
    this.queues.delete(module);
    for (const group of queue.groups) {
      const members = this.groups.get(group);
      if (members === undefined) continue;
      const rest = members.filter((m) => m !== module);
      if (rest.length === 0) this.groups.delete(group);
      else this.groups.set(group, rest);
    }
    const error = moduleCleanedUp(module);
    const discarded = queue.close(error);
    this.waiters.failDestination(module, error);
    this.log.info("bus_module_cleaned_up", { module, discarded });
  }

  /** The queue behind `module` (the socket server drains remote modules' queues through it). */
  queue(module: string): ModuleQueue | undefined {
    return this.queues.get(module);
  }

  send(module: string, msg: Message, options?: SendOptions): Promise<void> {
    const queue = this.queues.get(module);
    if (queue === undefined) return Promise.reject(this.closed ? contextClosed() : unknownModule(module));
    if (queue.offer(msg)) return RESOLVED;
    if (options?.failFast === true) return Promise.reject(queueFull(module, queue.capacity));
    return new Promise((resolve, reject) => {
      queue.block(msg, resolve, reject);
    });
  }

  receive(module: string): Promise<Message> {
    const queue = this.queues.get(module);
    if (queue === undefined) return Promise.reject(this.closed ? contextClosed() : unknownModule(module));
    if (queue.remote !== null) {
      return Promise.reject(
        new OpenEdgeError("ERR_CONFLICT", `module "${module}" is remote: its connection receives for it`, {
          details: { module },
        }),
      );
    }
    return queue.take();
  }

  tryReceive(module: string): Message | undefined {
    const queue = this.queues.get(module);
    if (queue === undefined) throw this.closed ? contextClosed() : unknownModule(module);
    if (queue.remote !== null) return undefined;
    return queue.poll();
  }

  sendSync(module: string, msg: Message, timeoutMs = this.syncTimeoutMs): Promise<Message> {
    const queue = this.queues.get(module);
    if (queue === undefined) return Promise.reject(this.closed ? contextClosed() : unknownModule(module));
    msg.header.sync = true;
    const waiting = this.waiters.waitOne(msg, module, timeoutMs);
    if (waiting instanceof OpenEdgeError) return Promise.reject(waiting);
    if (!queue.offer(msg)) {
      const id = msg.header.id;
      this.waiters.parked(
        id,
        queue.block(msg, noop, (error) => this.waiters.fail(id, error)),
      );
    }
    return waiting;
  }

  sendResp(resp: Message): Promise<void> {
    if (this.waiters.deliver(resp)) return RESOLVED;
    if (resp.header.sync) {
      // its sendSync gave up already: drop it here, never into a queue nobody reads for it
      this.lateResponses++;
      const queue = this.queues.get(resp.route.destination);
      if (queue !== undefined) queue.dropped++;
      this.log.debug("bus_late_response_dropped", {
        id: resp.header.id,
        parentId: resp.header.parentId,
        source: resp.route.source,
        destination: resp.route.destination,
      });
      return RESOLVED;
    }
    return this.send(resp.route.destination, resp);
  }

  sendToGroup(group: string, msg: Message, options?: SendOptions): Promise<void> {
    const members = this.groups.get(group);
    if (members === undefined) return RESOLVED;
    const pending: Promise<void>[] = [];
    for (const member of [...members]) {
      const sent = this.send(member, addressed(msg, member), options);
      if (sent !== RESOLVED) pending.push(sent);
    }
    return pending.length === 0 ? RESOLVED : Promise.all(pending).then(noop);
  }

  sendToGroupSync(group: string, msg: Message, timeoutMs = this.syncTimeoutMs): Promise<Message[]> {
    const members = [...(this.groups.get(group) ?? [])];
    if (members.length === 0) return Promise.resolve([]);
    msg.header.sync = true;
    const waiting = this.waiters.waitGroup(msg, group, members, timeoutMs);
    if (waiting instanceof OpenEdgeError) return Promise.reject(waiting);
    const id = msg.header.id;
    const failed = (error: Error) => this.waiters.fail(id, error);
    for (const member of members) {
      const queue = this.queues.get(member);
      const copy = addressed(msg, member);
      if (queue === undefined || queue.offer(copy)) continue;
      this.waiters.parked(id, queue.block(copy, noop, failed));
    }
    return waiting;
  }

  /** Number of sync requests waiting for responses (zero when nothing leaked). */
  pendingSync(): number {
    return this.waiters.size;
  }

  modules(): string[] {
    return [...this.queues.keys()];
  }

  members(group: string): string[] {
    return [...(this.groups.get(group) ?? [])];
  }

  stats(): BusStats {
    const modules: ModuleStats[] = [];
    for (const q of this.queues.values()) {
      modules.push({
        name: q.name,
        groups: [...q.groups],
        remote: q.remote !== null,
        connected: q.remote === null ? true : q.remote.connected,
        depth: q.depth,
        capacity: q.capacity,
        inflight: q.remote === null ? 0 : q.remote.inflight,
        sent: q.sent,
        received: q.received,
        dropped: q.dropped,
        blockedSenders: q.blockedSenders,
        waitingReceivers: q.waitingReceivers,
      });
    }
    return { kind: "channel", modules, pendingSync: this.waiters.size, lateResponses: this.lateResponses };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = contextClosed();
    for (const queue of this.queues.values()) queue.close(error);
    this.queues.clear();
    this.groups.clear();
    this.waiters.failAll(error);
  }

  private ensureOpen(): void {
    if (this.closed) throw contextClosed();
  }
}

function noop(): void {}

/** Each member gets the message addressed to itself (same header), so its response names it. */
function addressed(msg: Message, member: string): Message {
  if (msg.route.destination === member) return msg;
  return { header: msg.header, route: { ...msg.route, destination: member }, content: msg.content };
}
