// The hub store's checkpointer thread: copies committed WAL frames into hub.db (PASSIVE: never waits
// for, nor blocks, the hub's own connection) when the hub asks, and answers with SQLite's counts.
// Its fsyncs happen here, not on the thread that serves MQTT. A separate build entrypoint.

import { Database } from "bun:sqlite";

declare const self: Worker;

export interface CheckpointRequest {
  path: string;
}

export interface CheckpointReply {
  /** Frames in the WAL, and how many of them are in the database file now; -1 when it failed. */
  log: number;
  checkpointed: number;
  error?: string;
}

// A connection per checkpoint (opening costs ~0.1 ms, once a second at most): none is left open when
// the hub closes its own, so the hub's stays the last and folds the WAL into hub.db as it closes.
self.onmessage = (event: MessageEvent<CheckpointRequest>) => {
  let reply: CheckpointReply;
  let db: Database | null = null;
  try {
    db = new Database(event.data.path);
    const row = db.query<{ log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)").get();
    reply = { log: row?.log ?? -1, checkpointed: row?.checkpointed ?? -1 };
  } catch (error) {
    reply = { log: -1, checkpointed: -1, error: error instanceof Error ? error.message : String(error) };
  } finally {
    db?.close();
  }
  postMessage(reply);
};
