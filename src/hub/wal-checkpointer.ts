// Keeps the hub store's WAL from growing without putting checkpoints on the hub's thread: SQLite's
// automatic checkpoint runs inside the commit that crosses 1000 pages and fsyncs there, stalling every
// client for milliseconds (and costing QoS 1 fan-in ~30 % here). Instead a worker thread checkpoints
// (PASSIVE) at most once a `intervalMs`, asked from a commit — an idle hub asks nothing. Should the
// worker fall behind until the WAL passes `walLimitBytes`, one checkpoint runs inline, so the file
// stays bounded; should no worker start, SQLite's own automatic checkpoints are switched back on.

import { statSync } from "node:fs";
import type { CheckpointReply } from "./wal-checkpoint-worker.ts";

export interface WalCheckpointerOptions {
  /** The database file (its WAL is `<path>-wal`). */
  path: string;
  /** Runs a checkpoint on the caller's connection (the bound's last resort). */
  inline: () => void;
  /** Turns SQLite's automatic checkpoints back on (no worker). */
  automatic: () => void;
  intervalMs?: number;
  walLimitBytes?: number;
  now?: () => number;
  onProblem?: (what: string, error: string) => void;
  /** Told of each checkpoint the worker finished: WAL frames, and how many are in the database now. */
  onCheckpoint?: (frames: number, checkpointed: number) => void;
}

export class WalCheckpointer {
  private worker: Worker | null = null;
  private inFlight = false;
  private lastRequest = 0;
  private readonly intervalMs: number;
  private readonly walLimitBytes: number;
  private readonly now: () => number;
  /** Checkpoints the worker finished (tests and stats). */
  completed = 0;

  constructor(private readonly o: WalCheckpointerOptions) {
    this.intervalMs = o.intervalMs ?? 1_000;
    this.walLimitBytes = o.walLimitBytes ?? 64 * 1024 * 1024;
    this.now = o.now ?? Date.now;
    try {
      const worker = new Worker(new URL("./wal-checkpoint-worker.ts", import.meta.url).href);
      worker.unref();
      worker.onmessage = (event: MessageEvent<CheckpointReply>) => {
        this.inFlight = false;
        this.completed++;
        if (event.data.error !== undefined) o.onProblem?.("hub_checkpoint_failed", event.data.error);
        else o.onCheckpoint?.(event.data.log, event.data.checkpointed);
      };
      worker.onerror = (event) => this.fallBack(event.message);
      this.worker = worker;
    } catch (error) {
      this.fallBack(error instanceof Error ? error.message : String(error));
    }
  }

  /** Called after each commit. */
  afterCommit(): void {
    if (this.worker === null) return;
    const now = this.now();
    if (now - this.lastRequest < this.intervalMs) return;
    this.lastRequest = now;
    if (!this.inFlight) {
      this.inFlight = true;
      this.worker.postMessage({ path: this.o.path });
    } else if (this.walBytes() > this.walLimitBytes) {
      this.o.inline();
    }
  }

  close(): void {
    this.worker?.terminate();
    this.worker = null;
  }

  private walBytes(): number {
    try {
      return statSync(`${this.o.path}-wal`).size;
    } catch {
      return 0;
    }
  }

  private fallBack(error: string): void {
    this.worker?.terminate();
    this.worker = null;
    this.inFlight = false;
    this.o.onProblem?.("hub_checkpoint_worker_unavailable", error);
    this.o.automatic();
  }
}
