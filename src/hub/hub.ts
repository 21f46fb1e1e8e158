// The protocol core: sessions, subscriptions, retained messages, routes and the per-turn commit and
// flush. Listeners hand it transports (`accept`); in-process modules use `client()`.

import { BusyPoller, type CpuSpare } from "../lib/busy-poll.ts";
import { type Clock, systemClock } from "../lib/clock.ts";
import { errorMessage } from "../lib/errors.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { Connection } from "./connection.ts";
import type { DeferredReader, Flushable, HubContext } from "./context.ts";
import {
  type Authenticator,
  type ClientTransport,
  type ConnectionSink,
  DEFAULT_HUB_LIMITS,
  type HubCore,
  type HubLimits,
  type Principal,
} from "./contracts.ts";
import { InprocClient, type InprocClientOptions } from "./inproc-client.ts";
import { SlowPathDecoder } from "./packets.ts";
import type { HubPersistence } from "./persistence.ts";
import { MemoryPersistence } from "./persistence-memory.ts";
import { TurnCommittedPersistence } from "./persistence-turns.ts";
import { RetainTree } from "./retain-tree.ts";
import {
  HOLD_QUEUED,
  type Holdable,
  type HubMessage,
  keepMessage,
  Session,
  type SessionEnv,
} from "./session.ts";
import { SessionExpiry, scheduleLoadedSessions } from "./session-expiry.ts";
import { type HubStats, type HubStatsSnapshot, newStats } from "./stats.ts";
import { SysTopics } from "./sys-topics.ts";
import { TopicTree } from "./topic-tree.ts";

export interface HubRoute {
  source: { topic: string; qos: 0 | 1 | 2 };
  target: { topic: string; qos: 0 | 1 | 2 };
}

export interface HubDeps {
  authenticator: Authenticator;
  limits?: HubLimits;
  persistence?: HubPersistence;
  /** Validated by the hub config (no duplicates, no cycles). */
  routes?: HubRoute[];
  clock?: Clock;
  log?: Logger;
  /** `$SYS` statistics interval (default 10 s). */
  sysIntervalMs?: number;
  /**
   * After a turn, keep the event loop polling up to this long (ms, the longest of BusyPoller's adaptive
   * windows) before it may sleep (default 0). Where waking a sleeping CPU is slow (VMs without
   * halt-polling: 50–150 µs and a millisecond tail), a client that answers quickly finds the hub still
   * awake; the price is the CPU spent polling while traffic keeps coming.
   */
  busyPollMs?: number;
  /** Whether a CPU would otherwise idle (polling gives way when not); /proc/loadavg by default. */
  cpuSpare?: CpuSpare;
}

/**
 * Bytes of incoming frames one connection may have parsed per hub turn. A socket read can hand over
 * half a megabyte; parsed in one go, every other client's packets (and every reply) wait behind it
 * (6 ms p50 under a 4-publisher flood). Past this, the connection stops reading (transport paused)
 * and goes on in the next turn, after the flush and after other clients' reads: one flooding
 * publisher costs the others ~30 frames of work. Bench, 2 cores: 16 KB → p50 350 µs, 4 KB → 96 µs,
 * 2 KB → 65 µs (mosquitto ~60 µs), 1 KB → 51 µs but fan-in falls to 7.8×; 2 KB keeps fan-in ~10×.
 */
export const READ_BUDGET = 2048;
/**
 * ...raised to this much per client written in the last turn: a turn's fixed cost is one write per
 * client with bytes, and a publisher fanning out to 50 subscribers on 2 KB a turn spends its time in
 * write calls (fan-out 42× → 15× mosquitto). A turn's parsing stays a small multiple of its writing.
 */
export const READ_BUDGET_PER_WRITE = 1024;

/**
 * A write up to this size leaves before the turn's larger ones. Under a fixed 50k msg/s load (bench,
 * 2 vCPUs) a ping's reply waited behind the subscriber's batch: from read to written, p90 67 µs.
 */
const SMALL_WRITE_BYTES = 1024;
const MATCH_CACHE_MAX = 10_000;
const ROUTE_DEPTH_MAX = 8;
const encoder = new TextEncoder();

export class Hub implements HubCore, HubContext {
  readonly limits: HubLimits;
  readonly log: Logger;
  readonly clock: Clock;
  readonly persistence: HubPersistence;
  readonly authenticator: Authenticator;
  readonly decoder = new SlowPathDecoder();
  readonly counters: HubStats = newStats();
  private readonly sessions = new Map<string, Session>();
  private readonly connections = new Set<Flushable>();
  private readonly tree = new TopicTree<Session>();
  private readonly retained = new RetainTree();
  private readonly routes: TopicTree<HubRoute>;
  private readonly routeCount: number;
  private readonly sys: SysTopics;
  private readonly env: SessionEnv;
  private readonly expiry: SessionExpiry;
  private matchCache = new Map<string, Array<[Session, number]>>();
  /** Routes never change while the hub runs: what a topic matches is remembered (bounded). */
  private readonly routeCache = new Map<string, Array<[HubRoute, number]>>();
  private matchGeneration = -1;
  private readonly permissionCache = new WeakMap<Principal, Map<string, boolean>>();
  private dirty: Flushable[] = [];
  private spareDirty: Flushable[] = [];
  /** The turn's larger writes, flushed after the small ones (kept to be reused each turn). */
  private readonly bulkFlushes: Flushable[] = [];
  private deferredReads: DeferredReader[] = [];
  private spareDeferredReads: DeferredReader[] = [];
  turnNumber = 0;
  readBudget = READ_BUDGET;
  private turnScheduled = false;
  private readonly busyPoll: BusyPoller;
  private turnWaiters: Array<() => void> = [];
  private startedAt: number;
  private clientSeq = 0;
  private state: "new" | "running" | "closed" = "new";

  constructor(deps: HubDeps) {
    this.limits = deps.limits ?? DEFAULT_HUB_LIMITS;
    this.log = deps.log ?? silentLogger;
    this.clock = deps.clock ?? systemClock;
    this.busyPoll = new BusyPoller(
      deps.busyPollMs ?? 0,
      this.clock,
      () => this.counters.busyPollTurns++,
      deps.cpuSpare,
      () => this.turnScheduled,
    );
    // Every write asks for the turn that commits it, also when it sends nothing back (PUBACK, PUBCOMP).
    const requestTurn = (): void => {
      if (this.state !== "closed") this.scheduleTurn();
    };
    this.persistence = new TurnCommittedPersistence(deps.persistence ?? new MemoryPersistence(), requestTurn);
    this.authenticator = deps.authenticator;
    this.routes = new TopicTree<HubRoute>();
    for (const route of deps.routes ?? []) this.routes.add(route.source.topic, route, route.source.qos);
    this.routeCount = deps.routes?.length ?? 0;
    this.env = {
      limits: this.limits,
      persistence: this.persistence,
      stats: this.counters,
      clock: this.clock,
    };
    this.startedAt = this.clock.monotonic();
    this.expiry = new SessionExpiry(this.clock, (clientId) => this.expireSession(clientId));
    this.sys = new SysTopics(
      this.clock,
      deps.sysIntervalMs ?? 10_000,
      (topic, value) => this.publish({ topic, payload: encoder.encode(value), qos: 0, retain: false }),
      () => this.stats(),
    );
  }

  /** Loads retained messages and persistent sessions. */
  async start(): Promise<void> {
    if (this.state !== "new") return;
    const state = this.persistence.load();
    for (const msg of state.retained) this.retained.set(msg.topic, msg);
    for (const p of state.sessions) {
      const session = new Session(p.clientId, false, this.env);
      for (const { filter, qos } of p.subscriptions) {
        session.setSubscription(filter, qos);
        this.tree.add(filter, session, qos);
      }
      for (const row of p.outgoing) session.restore(row);
      for (const id of p.incomingQos2) session.addIncomingQos2(id);
      this.sessions.set(p.clientId, session);
    }
    scheduleLoadedSessions(
      this.expiry,
      this.persistence,
      state.sessions,
      this.clock.now(),
      this.limits.sessionExpiryMs,
    );
    if (this.persistence.dirty) this.persistence.commit();
    this.startedAt = this.clock.monotonic();
    this.state = "running";
    this.sys.update(this.tree.hasRoot("$SYS"), false);
    this.log.info("hub_started", { retained: this.retained.size, sessions: this.sessions.size });
  }

  /** Closes every connection (no wills: the hub, not the clients, is going away), commits, closes storage. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.busyPoll.stop();
    this.sys.stop();
    for (const c of [...this.connections]) if (c instanceof Connection) c.terminate(false, "hub closing");
    for (const s of this.sessions.values()) s.detach();
    this.expiry.stop(); // the offline times are stored: the next start goes on from them
    this.runTurn();
    this.persistence.close();
    this.log.info("hub_closed", {});
  }

  accept(transport: ClientTransport): ConnectionSink {
    const conn = new Connection(transport, this);
    if (this.state !== "running") {
      transport.close("hub not running");
      conn.state = "closed";
      return conn;
    }
    this.connections.add(conn);
    return conn;
  }

  /** An in-process client with a network client's semantics, without sockets. */
  client(options: InprocClientOptions): InprocClient {
    return new InprocClient(this, options);
  }

  stats(): HubStatsSnapshot {
    let clients = 0;
    for (const s of this.sessions.values()) if (s.link !== null) clients++;
    return {
      ...this.counters,
      clients,
      sessions: this.sessions.size,
      subscriptions: this.tree.size,
      retained: this.retained.size,
      uptimeSeconds: Math.floor((this.clock.monotonic() - this.startedAt) / 1000),
    };
  }

  /** Resolves after the next commit-and-flush turn (QoS 1/2 publishes of in-process clients wait on it). */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.turnWaiters.push(resolve);
      this.scheduleTurn();
    });
  }

  // ---- HubContext ----

  admits(): boolean {
    return this.limits.maxConnections <= 0 || this.connections.size <= this.limits.maxConnections;
  }

  assignClientId(): string {
    for (;;) {
      const id = `auto-${this.clock.now().toString(36)}-${(this.clientSeq++).toString(36)}`;
      if (!this.sessions.has(id)) return id;
    }
  }

  openSession(clientId: string, clean: boolean): { session: Session; present: boolean } {
    this.sessions.get(clientId)?.link?.close("client id taken over"); // [MQTT-3.1.4-2]
    let existing = this.sessions.get(clientId);
    if (existing !== undefined && clean) {
      this.removeSession(existing); // [MQTT-3.1.2-6]
      existing = undefined;
    }
    if (existing !== undefined) {
      this.expiry.cancel(clientId);
      this.persistence.setOffline(clientId, null);
      return { session: existing, present: true }; // [MQTT-3.2.2-2]
    }
    const session = new Session(clientId, clean, this.env);
    this.sessions.set(clientId, session);
    if (!clean) this.persistence.saveSession(clientId);
    return { session, present: false }; // [MQTT-3.2.2-1] [MQTT-3.2.2-3]
  }

  closeSession(session: Session, link: unknown): void {
    if (session.link !== link) return;
    session.detach();
    if (session.clean)
      this.removeSession(session); // [MQTT-3.1.2-6]
    else this.wentOffline(session.clientId, this.clock.now());
  }

  released(flushable: Flushable): void {
    this.connections.delete(flushable);
  }

  subscribe(session: Session, filter: string, qos: 0 | 1 | 2): void {
    session.setSubscription(filter, qos);
    this.tree.add(filter, session, qos);
    if (!session.clean) this.persistence.setSubscription(session.clientId, filter, qos);
    if (filter.startsWith("$SYS")) this.sys.update(true, true);
  }

  unsubscribe(session: Session, filter: string): void {
    if (!session.deleteSubscription(filter)) return;
    this.tree.remove(filter, session);
    if (!session.clean) this.persistence.setSubscription(session.clientId, filter, null);
    if (filter.startsWith("$SYS")) this.sys.update(this.tree.hasRoot("$SYS"), false);
  }

  sendRetained(session: Session, filter: string, qos: 0 | 1 | 2): void {
    for (const msg of this.retained.match(filter)) {
      session.deliver(msg, msg.qos < qos ? msg.qos : qos, true); // [MQTT-3.3.1-8] RETAIN 1
    }
  }

  publish(msg: HubMessage, from?: Holdable, depth = 0): void {
    if (msg.retain) this.storeRetained(msg);
    const targets = this.match(msg.topic);
    for (let i = 0; i < targets.length; i++) {
      const [session, granted] = targets[i] as [Session, number];
      // [MQTT-3.3.5-1] at most the granted QoS; [MQTT-3.3.1-9] RETAIN 0 to existing subscriptions.
      session.deliver(msg, (msg.qos < granted ? msg.qos : granted) as 0 | 1 | 2, false);
      if (from !== undefined && session.queued >= HOLD_QUEUED) session.congested(from);
    }
    if (this.routeCount > 0 && depth < ROUTE_DEPTH_MAX) this.applyRoutes(msg, from, depth);
  }

  canPublish(principal: Principal, topic: string): boolean {
    if (topic.startsWith("$SYS")) return false; // the hub's own statistics
    let cache = this.permissionCache.get(principal);
    if (cache === undefined) {
      cache = new Map();
      this.permissionCache.set(principal, cache);
    }
    let allowed = cache.get(topic);
    if (allowed === undefined) {
      allowed = principal.canPublish(topic);
      if (cache.size >= 1000) cache.clear();
      cache.set(topic, allowed);
    }
    return allowed;
  }

  markDirty(flushable: Flushable): void {
    this.dirty.push(flushable);
    this.scheduleTurn();
  }

  deferRead(reader: DeferredReader): void {
    this.deferredReads.push(reader);
    this.scheduleTurn();
  }

  // ---- internals ----

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => this.runTurn());
  }

  /** One commit for everything this turn changed, then one write per client: no ack precedes its data. */
  private runTurn(): void {
    this.turnScheduled = false;
    this.busyPoll.extend();
    this.turnNumber++;
    // Two arrays each, swapped: what this turn marks goes to the other one, and no turn allocates.
    const dirty = this.dirty;
    this.dirty = this.spareDirty;
    this.spareDirty = dirty;
    this.readBudget = Math.max(READ_BUDGET, dirty.length * READ_BUDGET_PER_WRITE);
    if (this.persistence.dirty) {
      try {
        this.persistence.commit();
      } catch (err) {
        // Nothing of this turn may be acknowledged: drop those clients, they will retry.
        this.log.error("persistence_commit_failed", { error: errorMessage(err) });
        for (const f of dirty) if (f instanceof Connection) f.terminate(false, "storage failure");
        dirty.length = 0;
        if (this.deferredReads.length > 0) this.scheduleTurn();
        return;
      }
    }
    // Small writes first (a reply, a single delivery), then the batches: a round trip does not wait
    // behind a busy subscriber's write, which on loopback also pays for waking that subscriber.
    const bulk = this.bulkFlushes;
    for (let i = 0; i < dirty.length; i++) {
      const f = dirty[i] as Flushable;
      if (f.pendingBytes <= SMALL_WRITE_BYTES) f.flush();
      else bulk.push(f);
    }
    for (let i = 0; i < bulk.length; i++) (bulk[i] as Flushable).flush();
    bulk.length = 0;
    dirty.length = 0;
    if (this.turnWaiters.length > 0) {
      const waiters = this.turnWaiters;
      this.turnWaiters = [];
      for (const w of waiters) w();
    }
    // Readers over their budget go on now, after the flush: what they produce leaves next turn, and
    // the event loop polls (other clients' packets) in between.
    const deferred = this.deferredReads;
    this.deferredReads = this.spareDeferredReads;
    this.spareDeferredReads = deferred;
    for (let i = 0; i < deferred.length; i++) (deferred[i] as DeferredReader).continueReading();
    deferred.length = 0;
  }

  private match(topic: string): Array<[Session, number]> {
    if (this.matchGeneration !== this.tree.generation) {
      this.matchCache.clear();
      this.matchGeneration = this.tree.generation;
    }
    let targets = this.matchCache.get(topic);
    if (targets === undefined) {
      targets = [...this.tree.match(topic)];
      if (this.matchCache.size >= MATCH_CACHE_MAX) this.matchCache.clear();
      this.matchCache.set(topic, targets);
    }
    return targets;
  }

  private storeRetained(msg: HubMessage): void {
    if (msg.payload.length === 0) {
      this.retained.set(msg.topic, null); // [MQTT-3.3.1-10] [MQTT-3.3.1-11]
      this.persistence.setRetained(msg.topic, null);
      return;
    }
    const kept = keepMessage(msg);
    const stored = { topic: kept.topic, payload: kept.payload, qos: kept.qos, retain: true };
    this.retained.set(msg.topic, stored); // [MQTT-3.3.1-5] replaces the previous one
    this.persistence.setRetained(msg.topic, stored);
  }

  private applyRoutes(msg: HubMessage, from: Holdable | undefined, depth: number): void {
    let matched = this.routeCache.get(msg.topic);
    if (matched === undefined) {
      matched = [...this.routes.match(msg.topic)];
      if (this.routeCache.size >= MATCH_CACHE_MAX) this.routeCache.clear();
      this.routeCache.set(msg.topic, matched);
    }
    for (const [route, sourceQos] of matched) {
      const qos = Math.min(msg.qos, sourceQos, route.target.qos) as 0 | 1 | 2;
      this.publish({ topic: route.target.topic, payload: msg.payload, qos, retain: false }, from, depth + 1);
    }
  }

  /** A persistent session without a client: stored as such, and expiring when so configured. */
  private wentOffline(clientId: string, since: number): void {
    this.persistence.setOffline(clientId, since);
    if (this.limits.sessionExpiryMs > 0) this.expiry.schedule(clientId, since + this.limits.sessionExpiryMs);
  }

  private expireSession(clientId: string): void {
    const session = this.sessions.get(clientId);
    if (session === undefined || session.link !== null) return;
    const queued = session.queued + session.inflight.size;
    this.removeSession(session); // deletes it from persistence, committed with this turn
    this.counters.sessionsExpired++;
    this.log.info("session_expired", { client_id: clientId, queued_dropped: queued });
    this.scheduleTurn();
  }

  private removeSession(session: Session): void {
    this.expiry.cancel(session.clientId);
    for (const filter of session.subscriptions.keys()) this.tree.remove(filter, session);
    session.discard();
    this.sessions.delete(session.clientId);
    if (!this.tree.hasRoot("$SYS")) this.sys.stop();
  }
}
