// The hub's counters, read by stats(), $SYS topics and the master's metrics.

export interface HubStats {
  messagesReceived: number;
  messagesSent: number;
  bytesReceived: number;
  bytesSent: number;
  /** Messages not delivered because a client's queue was full. */
  dropped: number;
  /** PUBLISHes refused by permissions (or to `$SYS`). */
  publishDenied: number;
  /** Times a publisher's reading was paused because a subscriber it feeds was backed up. */
  publishersHeld: number;
  /** Subscribers that stayed backed up past the stall deadline (their publishers were let go). */
  stalledClients: number;
  connectionsRefused: number;
  /** Offline persistent sessions removed at their expiry (`session.expiry`), queues included. */
  sessionsExpired: number;
  /** Event-loop turns spent polling for more traffic after a burst (`busypoll`). */
  busyPollTurns: number;
}

export function newStats(): HubStats {
  return {
    messagesReceived: 0,
    messagesSent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    dropped: 0,
    publishDenied: 0,
    publishersHeld: 0,
    stalledClients: 0,
    connectionsRefused: 0,
    sessionsExpired: 0,
    busyPollTurns: 0,
  };
}

export interface HubStatsSnapshot extends HubStats {
  clients: number;
  sessions: number;
  subscriptions: number;
  retained: number;
  uptimeSeconds: number;
}
