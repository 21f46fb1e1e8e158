// Hub persistence on bun:sqlite in WAL mode under a directory. Writes are recorded in memory and
// committed as one transaction per hub turn; an outgoing message inserted and deleted within the
// same batch never touches the disk.
//
// Durability: with `journal_mode=WAL` and `synchronous=NORMAL` (the default here) a commit is not
// fsynced; it survives a crash or kill -9 of the process (the WAL is in the OS page cache), but a
// power loss may lose the last batches since the previous checkpoint. `synchronous: "full"` fsyncs
// every commit (one per turn, not per message) for power-loss durability at a throughput cost.

import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { OpenEdgeError } from "../lib/errors.ts";
import type { StoredMessage } from "./contracts.ts";
import type { HubPersistence, OutgoingRow, PersistedSession, PersistedState } from "./persistence.ts";
import { WalCheckpointer } from "./wal-checkpointer.ts";

export interface SqlitePersistenceOptions {
  /** Directory holding `hub.db` (created when missing). */
  dir: string;
  synchronous?: "normal" | "full";
  /**
   * `worker`: WAL checkpoints on a thread of their own (see WalCheckpointer), as the hub runs;
   * `inline` (default): SQLite's automatic checkpoints inside the commits.
   */
  checkpoints?: "worker" | "inline";
  /** Told of a checkpoint problem (event name, error); the store goes on. */
  onProblem?: (event: string, error: string) => void;
  /** Told of each checkpoint a worker finished (WAL frames, frames now in hub.db). */
  onCheckpoint?: (frames: number, checkpointed: number) => void;
}

type Op = () => void;

/**
 * Queued and in-flight deliveries, the hub's hottest table (a row in and a row out per QoS 1/2
 * delivery): WITHOUT ROWID keeps each row in the one b-tree of its key instead of a rowid table plus
 * an index on (client_id, seq).
 */
function outgoingTable(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (client_id TEXT NOT NULL, seq INTEGER NOT NULL, topic TEXT NOT NULL,
  payload BLOB NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL, packet_id INTEGER NOT NULL,
  state TEXT NOT NULL, PRIMARY KEY (client_id, seq)) WITHOUT ROWID`;
}

const OUTGOING_COLUMNS = "client_id, seq, topic, payload, qos, retain, packet_id, state";

/** Outgoing rows written by one INSERT statement (fewer statement runs per commit). */
const PUT_ROWS = 16;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, payload BLOB NOT NULL, qos INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (client_id TEXT PRIMARY KEY, offline_since INTEGER);
CREATE TABLE IF NOT EXISTS subscriptions (client_id TEXT NOT NULL, filter TEXT NOT NULL, qos INTEGER NOT NULL,
  PRIMARY KEY (client_id, filter));
${outgoingTable("outgoing")};
CREATE TABLE IF NOT EXISTS incoming_qos2 (client_id TEXT NOT NULL, packet_id INTEGER NOT NULL,
  PRIMARY KEY (client_id, packet_id));
`;

/**
 * Brings a `hub.db` written by an older version up to SCHEMA: its sessions get no offline time, and
 * its outgoing rows move into the WITHOUT ROWID table (in one transaction: all of them or none).
 */
function migrate(db: Database): void {
  const columns = db.query<{ name: string }, []>("PRAGMA table_info(sessions)").all();
  if (!columns.some((c) => c.name === "offline_since")) {
    db.exec("ALTER TABLE sessions ADD COLUMN offline_since INTEGER");
  }
  const outgoing = db
    .query<{ sql: string }, []>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'outgoing'")
    .get();
  if (outgoing !== null && !/WITHOUT\s+ROWID/i.test(outgoing.sql)) {
    db.transaction(() => {
      db.exec(outgoingTable("outgoing_migrated"));
      db.exec(`INSERT INTO outgoing_migrated (${OUTGOING_COLUMNS}) SELECT ${OUTGOING_COLUMNS} FROM outgoing`);
      db.exec("DROP TABLE outgoing");
      db.exec("ALTER TABLE outgoing_migrated RENAME TO outgoing");
    })();
  }
}

export class SqlitePersistence implements HubPersistence {
  private readonly db: Database;
  private ops: Op[] = [];
  /** Outgoing rows of this batch by `client\0seq`, null for a delete; coalesced before commit. */
  private outgoing = new Map<string, OutgoingRow | null>();
  private fresh = new Set<string>();
  private readonly st: Record<string, Statement>;
  private readonly checkpointer: WalCheckpointer | null = null;

  constructor(options: SqlitePersistenceOptions) {
    try {
      mkdirSync(options.dir, { recursive: true });
      this.db = new Database(join(options.dir, "hub.db"), { create: true });
      this.db.exec("PRAGMA journal_mode=WAL");
      this.db.exec(`PRAGMA synchronous=${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
      this.db.exec(SCHEMA);
      migrate(this.db);
      if (options.checkpoints === "worker") {
        this.db.exec("PRAGMA wal_autocheckpoint=0");
        this.checkpointer = new WalCheckpointer({
          path: join(options.dir, "hub.db"),
          inline: () => this.db.exec("PRAGMA wal_checkpoint(PASSIVE)"),
          automatic: () => this.db.exec("PRAGMA wal_autocheckpoint=1000"),
          ...(options.onProblem ? { onProblem: options.onProblem } : {}),
          ...(options.onCheckpoint ? { onCheckpoint: options.onCheckpoint } : {}),
        });
      }
    } catch (err) {
      throw new OpenEdgeError("ERR_IO", `failed to open hub storage in "${options.dir}"`, { cause: err });
    }
    const q = (sql: string) => this.db.prepare(sql);
    this.st = {
      setRetained: q("INSERT OR REPLACE INTO retained (topic, payload, qos) VALUES (?, ?, ?)"),
      clearRetained: q("DELETE FROM retained WHERE topic = ?"),
      saveSession: q("INSERT OR IGNORE INTO sessions (client_id) VALUES (?)"),
      setOffline: q("UPDATE sessions SET offline_since = ? WHERE client_id = ?"),
      delSession: q("DELETE FROM sessions WHERE client_id = ?"),
      delSubs: q("DELETE FROM subscriptions WHERE client_id = ?"),
      delOutgoingAll: q("DELETE FROM outgoing WHERE client_id = ?"),
      delIncomingAll: q("DELETE FROM incoming_qos2 WHERE client_id = ?"),
      setSub: q("INSERT OR REPLACE INTO subscriptions (client_id, filter, qos) VALUES (?, ?, ?)"),
      delSub: q("DELETE FROM subscriptions WHERE client_id = ? AND filter = ?"),
      putOut: q(`INSERT OR REPLACE INTO outgoing (${OUTGOING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      putOutMany: q(
        `INSERT OR REPLACE INTO outgoing (${OUTGOING_COLUMNS}) VALUES ${Array(PUT_ROWS).fill("(?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
      ),
      delOut: q("DELETE FROM outgoing WHERE client_id = ? AND seq = ?"),
      delOutRange: q("DELETE FROM outgoing WHERE client_id = ? AND seq BETWEEN ? AND ?"),
      addIn: q("INSERT OR IGNORE INTO incoming_qos2 (client_id, packet_id) VALUES (?, ?)"),
      delIn: q("DELETE FROM incoming_qos2 WHERE client_id = ? AND packet_id = ?"),
    };
  }

  get dirty(): boolean {
    return this.ops.length > 0 || this.outgoing.size > 0;
  }

  load(): PersistedState {
    const retained = this.db
      .query<{ topic: string; payload: Uint8Array; qos: number }, []>(
        "SELECT topic, payload, qos FROM retained",
      )
      .all()
      .map(
        (r): StoredMessage => ({ topic: r.topic, payload: r.payload, qos: r.qos as 0 | 1 | 2, retain: true }),
      );
    const sessions = new Map<string, PersistedSession>();
    const session = (clientId: string): PersistedSession => {
      let s = sessions.get(clientId);
      if (s === undefined) {
        s = { clientId, subscriptions: [], outgoing: [], incomingQos2: [], offlineSince: null };
        sessions.set(clientId, s);
      }
      return s;
    };
    type SessionRow = { client_id: string; offline_since: number | null };
    for (const r of this.db.query<SessionRow, []>("SELECT client_id, offline_since FROM sessions").all()) {
      session(r.client_id).offlineSince = r.offline_since;
    }
    type SubRow = { client_id: string; filter: string; qos: number };
    for (const r of this.db.query<SubRow, []>("SELECT client_id, filter, qos FROM subscriptions").all()) {
      session(r.client_id).subscriptions.push({ filter: r.filter, qos: r.qos as 0 | 1 | 2 });
    }
    type OutRow = {
      client_id: string;
      seq: number;
      topic: string;
      payload: Uint8Array;
      qos: number;
      retain: number;
      packet_id: number;
      state: string;
    };
    for (const r of this.db.query<OutRow, []>("SELECT * FROM outgoing ORDER BY client_id, seq").all()) {
      session(r.client_id).outgoing.push({
        clientId: r.client_id,
        seq: r.seq,
        message: { topic: r.topic, payload: r.payload, qos: r.qos as 0 | 1 | 2, retain: r.retain === 1 },
        packetId: r.packet_id,
        state: r.state === "pubrel" ? "pubrel" : "publish",
      });
    }
    type InRow = { client_id: string; packet_id: number };
    for (const r of this.db.query<InRow, []>("SELECT client_id, packet_id FROM incoming_qos2").all()) {
      session(r.client_id).incomingQos2.push(r.packet_id);
    }
    return { retained, sessions: [...sessions.values()] };
  }

  setRetained(topic: string, message: StoredMessage | null): void {
    if (message === null) this.ops.push(() => this.st.clearRetained!.run(topic));
    else {
      const payload = message.payload.slice(); // the hub may hold a view of a larger frame
      this.ops.push(() => this.st.setRetained!.run(topic, payload, message.qos));
    }
  }

  saveSession(clientId: string): void {
    this.ops.push(() => this.st.saveSession!.run(clientId));
  }

  deleteSession(clientId: string): void {
    const prefix = `${clientId}\u0000`;
    for (const key of this.outgoing.keys()) {
      if (key.startsWith(prefix)) {
        this.outgoing.delete(key);
        this.fresh.delete(key);
      }
    }
    this.flushOutgoingInto(); // keep order: earlier outgoing writes precede the delete
    this.ops.push(() => {
      for (const s of [this.st.delSession, this.st.delSubs, this.st.delOutgoingAll, this.st.delIncomingAll]) {
        s!.run(clientId);
      }
    });
  }

  setOffline(clientId: string, since: number | null): void {
    this.ops.push(() => this.st.setOffline!.run(since, clientId));
  }

  setSubscription(clientId: string, filter: string, qos: 0 | 1 | 2 | null): void {
    if (qos === null) this.ops.push(() => this.st.delSub!.run(clientId, filter));
    else this.ops.push(() => this.st.setSub!.run(clientId, filter, qos));
  }

  putOutgoing(row: OutgoingRow, fresh: boolean): void {
    const key = `${row.clientId}\u0000${row.seq}`;
    if (fresh) this.fresh.add(key);
    this.outgoing.set(key, row);
  }

  deleteOutgoing(clientId: string, seq: number): void {
    const key = `${clientId}\u0000${seq}`;
    if (this.fresh.delete(key))
      this.outgoing.delete(key); // never reached the disk
    else this.outgoing.set(key, null);
  }

  setIncomingQos2(clientId: string, packetId: number, present: boolean): void {
    if (present) this.ops.push(() => this.st.addIn!.run(clientId, packetId));
    else this.ops.push(() => this.st.delIn!.run(clientId, packetId));
  }

  commit(): void {
    if (!this.dirty) return;
    const ops = this.ops;
    const outgoing = this.outgoing;
    this.ops = [];
    this.outgoing = new Map();
    this.fresh.clear();
    this.db.transaction(() => {
      for (const op of ops) op();
      this.writeOutgoing(outgoing);
    })();
    this.checkpointer?.afterCommit();
  }

  /** Checkpoints the worker finished (0 without one). */
  get checkpoints(): number {
    return this.checkpointer?.completed ?? 0;
  }

  close(): void {
    try {
      this.commit();
    } finally {
      this.checkpointer?.close();
      // with statements left open SQLite keeps the connection (and the WAL file) around
      for (const statement of Object.values(this.st)) statement.finalize();
      this.db.close();
    }
  }

  /** Moves the batch's outgoing rows into the ordered op list (before a session delete). */
  private flushOutgoingInto(): void {
    if (this.outgoing.size === 0) return;
    const outgoing = this.outgoing;
    this.outgoing = new Map();
    this.fresh.clear();
    this.ops.push(() => this.writeOutgoing(outgoing));
  }

  /**
   * Writes a batch's coalesced outgoing changes: inserts PUT_ROWS to a statement, and deletes as runs of
   * consecutive seqs per client (acknowledgements mostly come in order). A run only spans seqs that are
   * all deleted in this batch, so it can never take a row that is kept or written now.
   */
  private writeOutgoing(outgoing: Map<string, OutgoingRow | null>): void {
    const deleted = new Map<string, number[]>();
    const puts: OutgoingRow[] = [];
    for (const [key, row] of outgoing) {
      if (row !== null) {
        puts.push(row);
        continue;
      }
      const at = key.indexOf("\u0000");
      const clientId = key.slice(0, at);
      const seqs = deleted.get(clientId);
      const seq = Number(key.slice(at + 1));
      if (seqs === undefined) deleted.set(clientId, [seq]);
      else seqs.push(seq);
    }
    for (const [clientId, seqs] of deleted) {
      seqs.sort((a, b) => a - b);
      for (let i = 0; i < seqs.length; ) {
        let j = i;
        while (j + 1 < seqs.length && seqs[j + 1] === (seqs[j] as number) + 1) j++;
        if (j === i) this.st.delOut!.run(clientId, seqs[i] as number);
        else this.st.delOutRange!.run(clientId, seqs[i] as number, seqs[j] as number);
        i = j + 1;
      }
    }
    let i = 0;
    if (puts.length >= PUT_ROWS) {
      const values: Array<string | number | Uint8Array> = new Array(PUT_ROWS * 8);
      for (; i + PUT_ROWS <= puts.length; i += PUT_ROWS) {
        for (let k = 0; k < PUT_ROWS; k++) bindRow(values, k * 8, puts[i + k] as OutgoingRow);
        this.st.putOutMany!.run(...values);
      }
    }
    const one: Array<string | number | Uint8Array> = new Array(8);
    for (; i < puts.length; i++) {
      bindRow(one, 0, puts[i] as OutgoingRow);
      this.st.putOut!.run(...one);
    }
  }
}

function bindRow(values: Array<string | number | Uint8Array>, at: number, row: OutgoingRow): void {
  const m = row.message;
  values[at] = row.clientId;
  values[at + 1] = row.seq;
  values[at + 2] = m.topic;
  values[at + 3] = m.payload;
  values[at + 4] = m.qos;
  values[at + 5] = m.retain ? 1 : 0;
  values[at + 6] = row.packetId;
  values[at + 7] = row.state;
}
