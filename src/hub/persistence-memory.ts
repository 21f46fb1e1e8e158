// In-memory persistence: the default for tests and for hubs without `storage.dir`. It survives a
// Hub being replaced in the same process (hand the same instance to the new Hub), not a restart.

import type { StoredMessage } from "./contracts.ts";
import type { HubPersistence, OutgoingRow, PersistedSession, PersistedState } from "./persistence.ts";

interface SessionRecord {
  subscriptions: Map<string, 0 | 1 | 2>;
  outgoing: Map<number, OutgoingRow>;
  incomingQos2: Set<number>;
  offlineSince: number | null;
}

export class MemoryPersistence implements HubPersistence {
  private readonly retained = new Map<string, StoredMessage>();
  private readonly sessions = new Map<string, SessionRecord>();
  readonly dirty = false;

  load(): PersistedState {
    const sessions: PersistedSession[] = [];
    for (const [clientId, s] of this.sessions) {
      sessions.push({
        clientId,
        subscriptions: [...s.subscriptions].map(([filter, qos]) => ({ filter, qos })),
        outgoing: [...s.outgoing.values()].sort((a, b) => a.seq - b.seq).map((r) => ({ ...r })),
        incomingQos2: [...s.incomingQos2],
        offlineSince: s.offlineSince,
      });
    }
    return { retained: [...this.retained.values()], sessions };
  }

  setRetained(topic: string, message: StoredMessage | null): void {
    if (message === null) this.retained.delete(topic);
    else this.retained.set(topic, message);
  }

  saveSession(clientId: string): void {
    this.session(clientId);
  }

  deleteSession(clientId: string): void {
    this.sessions.delete(clientId);
  }

  setOffline(clientId: string, since: number | null): void {
    this.session(clientId).offlineSince = since;
  }

  setSubscription(clientId: string, filter: string, qos: 0 | 1 | 2 | null): void {
    const s = this.session(clientId);
    if (qos === null) s.subscriptions.delete(filter);
    else s.subscriptions.set(filter, qos);
  }

  putOutgoing(row: OutgoingRow): void {
    this.session(row.clientId).outgoing.set(row.seq, { ...row });
  }

  deleteOutgoing(clientId: string, seq: number): void {
    this.sessions.get(clientId)?.outgoing.delete(seq);
  }

  setIncomingQos2(clientId: string, packetId: number, present: boolean): void {
    const s = this.session(clientId);
    if (present) s.incomingQos2.add(packetId);
    else s.incomingQos2.delete(packetId);
  }

  commit(): void {}

  close(): void {}

  private session(clientId: string): SessionRecord {
    let s = this.sessions.get(clientId);
    if (s === undefined) {
      s = { subscriptions: new Map(), outgoing: new Map(), incomingQos2: new Set(), offlineSince: null };
      this.sessions.set(clientId, s);
    }
    return s;
  }
}
