// What the hub keeps across restarts, as one small interface with a memory and a SQLite backend:
// retained messages, persistent sessions with their subscriptions, outgoing QoS 1/2 messages (queued
// or in flight) and incoming QoS 2 packet ids awaiting PUBREL. Writes are recorded, then made
// durable together by `commit()`, which the hub calls once per event-loop turn before any byte of
// that turn (an acknowledgement included) leaves the hub.

import type { StoredMessage } from "./contracts.ts";

export type OutgoingState = "publish" | "pubrel";

export interface OutgoingRow {
  clientId: string;
  /** Order within the session's outgoing messages. */
  seq: number;
  message: StoredMessage;
  /** 0 while queued, the packet id once sent. */
  packetId: number;
  state: OutgoingState;
}

export interface PersistedSession {
  clientId: string;
  subscriptions: Array<{ filter: string; qos: 0 | 1 | 2 }>;
  /** In `seq` order. */
  outgoing: OutgoingRow[];
  incomingQos2: number[];
  /** When its last client connection ended (epoch ms); null while connected or not recorded. */
  offlineSince: number | null;
}

export interface PersistedState {
  retained: StoredMessage[];
  sessions: PersistedSession[];
}

export interface HubPersistence {
  load(): PersistedState;
  /** Stores or (null) clears a retained message. */
  setRetained(topic: string, message: StoredMessage | null): void;
  /** Records that a persistent session exists (it may have no subscriptions yet). */
  saveSession(clientId: string): void;
  /** Removes a session with its subscriptions, outgoing messages and incoming ids. */
  deleteSession(clientId: string): void;
  /** Records when the session's client went offline (epoch ms), or null when it is back. */
  setOffline(clientId: string, since: number | null): void;
  setSubscription(clientId: string, filter: string, qos: 0 | 1 | 2 | null): void;
  /** Inserts or updates; `fresh` says the row was never written before (lets a batch cancel out). */
  putOutgoing(row: OutgoingRow, fresh: boolean): void;
  deleteOutgoing(clientId: string, seq: number): void;
  setIncomingQos2(clientId: string, packetId: number, present: boolean): void;
  /** Whether anything is recorded and not yet committed. */
  readonly dirty: boolean;
  /** Makes everything recorded so far durable, as one transaction. */
  commit(): void;
  close(): void;
}
