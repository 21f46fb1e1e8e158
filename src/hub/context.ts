// What connections and packet handlers may ask of the hub: one narrow interface instead of reaching
// into the Hub class, so handlers stay short and testable.

import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../log/index.ts";
import type { Authenticator, HubLimits, Principal } from "./contracts.ts";
import type { SlowPathDecoder } from "./packets.ts";
import type { HubPersistence } from "./persistence.ts";
import type { Holdable, HubMessage, Session, SessionLink } from "./session.ts";
import type { HubStats } from "./stats.ts";

export interface PublishOrigin {
  clientId: string;
  principal: Principal;
}

export interface HubContext {
  readonly limits: HubLimits;
  readonly log: Logger;
  readonly counters: HubStats;
  readonly clock: Clock;
  readonly persistence: HubPersistence;
  readonly authenticator: Authenticator;
  readonly decoder: SlowPathDecoder;
  /** Whether another connection may be admitted (maxConnections). */
  admits(): boolean;
  /** A unique id for a client that connected with an empty one [MQTT-3.1.3-6]. */
  assignClientId(): string;
  /**
   * The session for `clientId`, closing any other connection of that id first [MQTT-3.1.4-2]; a
   * clean start discards the old session [MQTT-3.1.2-6]. The caller attaches its link after CONNACK.
   */
  openSession(clientId: string, clean: boolean): { session: Session; present: boolean };
  /** The link is gone: a clean session ends with it [MQTT-3.1.2-6]. */
  closeSession(session: Session, link: SessionLink): void;
  subscribe(session: Session, filter: string, qos: 0 | 1 | 2): void;
  unsubscribe(session: Session, filter: string): void;
  /** Delivers retained messages matching `filter` to a new subscription [MQTT-3.3.1-6]. */
  sendRetained(session: Session, filter: string, qos: 0 | 1 | 2): void;
  /**
   * Routes an authorised message to retained storage, subscribers and routes; `from` (the network
   * publisher) is held back while a subscriber it feeds is backed up.
   */
  publish(msg: HubMessage, from?: Holdable): void;
  /** May this principal publish here? (`$SYS` is the hub's own.) */
  canPublish(principal: Principal, topic: string): boolean;
  /** A connection is gone (whatever its state), for connection counting. */
  released(flushable: Flushable): void;
  /** Asks for this link's bytes to be flushed at the end of the turn. */
  markDirty(flushable: Flushable): void;
  /** Counts the commit-and-flush turns: read budgets are per turn. */
  readonly turnNumber: number;
  /** Bytes of frames one connection may parse per turn before yielding to the others. */
  readonly readBudget: number;
  /** A connection over its read budget: `continueReading` after the next turn's flush. */
  deferRead(reader: DeferredReader): void;
}

export interface DeferredReader {
  continueReading(): void;
}

export interface Flushable {
  /** Bytes the next flush writes. */
  readonly pendingBytes: number;
  flush(): void;
}
