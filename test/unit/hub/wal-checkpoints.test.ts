// The hub store's WAL is checkpointed by a worker thread when commits ask for it (not inside them):
// the hub's own connection has SQLite's automatic checkpoints off, the worker copies the frames into
// hub.db, and what was committed reads back from a fresh connection with no WAL at all.

import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OutgoingRow } from "../../../src/hub/persistence.ts";
import { SqlitePersistence } from "../../../src/hub/persistence-sqlite.ts";
import { WalCheckpointer } from "../../../src/hub/wal-checkpointer.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "oe-hub-wal-"));
  dirs.push(d);
  return d;
}

const row = (seq: number): OutgoingRow => ({
  clientId: "c",
  seq,
  message: { topic: "t", payload: new Uint8Array(512).fill(seq % 251), qos: 1, retain: false },
  packetId: 0,
  state: "publish",
});

async function waitFor(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

test("commits ask the worker to checkpoint; the frames land in hub.db", async () => {
  const dir = tempDir();
  const store = new SqlitePersistence({ dir, checkpoints: "worker" });
  store.load();
  store.saveSession("c");
  for (let i = 1; i <= 2000; i++) store.putOutgoing(row(i), true);
  store.commit();
  await waitFor(() => store.checkpoints >= 1, "a checkpoint by the worker");
  // SQLite's own automatic checkpoint is off on the hub's connection: without the worker the WAL
  // would still hold every frame; after it, hub.db has them
  const db = new Database(join(dir, "hub.db"), { readonly: true });
  expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM outgoing").get()?.n).toBe(2000);
  db.close();
  expect(statSync(join(dir, "hub.db")).size).toBeGreaterThan(2000 * 512);
  store.close();
  expect(existsSync(join(dir, "hub.db-wal"))).toBe(false); // the last connection folds the WAL in
});

test("a worker that cannot start turns SQLite's automatic checkpoints back on, and says so", async () => {
  const problems: string[] = [];
  let automatic = 0;
  const original = globalThis.Worker;
  // a Worker constructor that fails the way a missing entrypoint would
  globalThis.Worker = class {
    constructor() {
      throw new Error("no such entrypoint");
    }
  } as unknown as typeof Worker;
  try {
    new WalCheckpointer({
      path: join(tempDir(), "hub.db"),
      inline: () => {},
      automatic: () => {
        automatic++;
      },
      onProblem: (event, error) => problems.push(`${event}: ${error}`),
    });
  } finally {
    globalThis.Worker = original;
  }
  expect(automatic).toBe(1);
  expect(problems).toEqual(["hub_checkpoint_worker_unavailable: no such entrypoint"]);
});

test("asked at most once an interval; past the WAL bound with the worker busy, one checkpoint runs inline", () => {
  const dir = tempDir();
  const path = join(dir, "hub.db");
  const db = new Database(path, { create: true });
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA wal_autocheckpoint=0");
  db.exec("CREATE TABLE t (x BLOB)");
  let now = 0;
  let inline = 0;
  const cp = new WalCheckpointer({
    path,
    inline: () => {
      inline++;
    },
    automatic: () => {},
    intervalMs: 1000,
    walLimitBytes: 64 * 1024,
    now: () => now,
  });
  try {
    now = 1000;
    cp.afterCommit(); // the worker is asked (and still busy as far as this test goes: no await)
    for (let i = 0; i < 100; i++) db.query("INSERT INTO t VALUES (?)").run(new Uint8Array(4096));
    now = 1500;
    cp.afterCommit(); // within the interval: nothing
    expect(inline).toBe(0);
    now = 2100;
    cp.afterCommit(); // worker busy, WAL over 64 KiB: inline
    expect(inline).toBe(1);
  } finally {
    cp.close();
    db.close();
  }
});
