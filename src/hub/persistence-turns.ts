// The hub's persistence as its handlers and sessions see it: every recorded write also asks for the
// hub turn that commits it. Writes that send nothing back — a subscriber's PUBACK or PUBCOMP, a QoS 0
// retained message, a client going offline — would otherwise wait uncommitted for unrelated traffic,
// and a crash meanwhile would resend completed deliveries or lose the retained message.

import type { StoredMessage } from "./contracts.ts";
import type { HubPersistence, OutgoingRow, PersistedState } from "./persistence.ts";

export class TurnCommittedPersistence implements HubPersistence {
  constructor(
    private readonly inner: HubPersistence,
    /** Schedules the hub's next turn (a no-op when one is already scheduled). */
    private readonly requestTurn: () => void,
  ) {}

  get dirty(): boolean {
    return this.inner.dirty;
  }

  load(): PersistedState {
    return this.inner.load();
  }

  setRetained(topic: string, message: StoredMessage | null): void {
    this.inner.setRetained(topic, message);
    this.requestTurn();
  }

  saveSession(clientId: string): void {
    this.inner.saveSession(clientId);
    this.requestTurn();
  }

  deleteSession(clientId: string): void {
    this.inner.deleteSession(clientId);
    this.requestTurn();
  }

  setOffline(clientId: string, since: number | null): void {
    this.inner.setOffline(clientId, since);
    this.requestTurn();
  }

  setSubscription(clientId: string, filter: string, qos: 0 | 1 | 2 | null): void {
    this.inner.setSubscription(clientId, filter, qos);
    this.requestTurn();
  }

  putOutgoing(row: OutgoingRow, fresh: boolean): void {
    this.inner.putOutgoing(row, fresh);
    this.requestTurn();
  }

  deleteOutgoing(clientId: string, seq: number): void {
    this.inner.deleteOutgoing(clientId, seq);
    this.requestTurn();
  }

  setIncomingQos2(clientId: string, packetId: number, present: boolean): void {
    this.inner.setIncomingQos2(clientId, packetId, present);
    this.requestTurn();
  }

  commit(): void {
    this.inner.commit();
  }

  close(): void {
    this.inner.close();
  }
}
