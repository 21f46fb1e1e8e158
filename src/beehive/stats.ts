// Introspection shapes of the bus: plain JSON for inspect and metrics.

export interface ModuleStats {
  name: string;
  groups: string[];
  /** True when the module lives in another process behind the socket context. */
  remote: boolean;
  /** For a remote module, whether its connection is up; local modules are always connected. */
  connected: boolean;
  /** Messages waiting in the queue (for a remote module, not yet written to its connection). */
  depth: number;
  capacity: number;
  /** Remote only: written to the connection, not yet acknowledged as consumed. */
  inflight: number;
  /** Messages accepted into the queue. */
  sent: number;
  /** Messages taken out of the queue by the module (or its connection). */
  received: number;
  /** Late responses addressed to this module that were dropped. */
  dropped: number;
  blockedSenders: number;
  waitingReceivers: number;
}

export interface BusStats {
  kind: "channel" | "socket-client";
  modules: ModuleStats[];
  /** Sync requests waiting for their response(s). */
  pendingSync: number;
  /** Responses that arrived after their sendSync gave up (dropped, never thrown). */
  lateResponses: number;
  /** Socket client only: whether the connection to the master is up. */
  connected?: boolean;
  /** Socket server only: open connections and frames rejected. */
  connections?: number;
  rejectedFrames?: number;
}
