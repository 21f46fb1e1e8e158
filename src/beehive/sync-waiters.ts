// The pending-response table of sendSync and sendToGroupSync: one entry per request id, removed on
// answer, timeout or failure, so nothing outlives its request.

import type { Clock, TimerHandle } from "../lib/clock.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import type { Message } from "./model.ts";
import type { BlockedSender } from "./module-queue.ts";

interface Entry {
  readonly id: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  timer: TimerHandle | null;
  /** Sends still parked on a full queue, cancelled when the request ends. */
  blocked: BlockedSender[] | null;
  /** Single request: its destination. Group request: the members, in order. */
  readonly members: readonly string[];
  readonly group: string | null;
  /** Group request: answers by member. */
  readonly answers: Map<string, Message> | null;
}

export class SyncWaiters {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Waits for the response to `request` from `destination`; an error when its id is already pending. */
  waitOne(request: Message, destination: string, timeoutMs: number): Waiting<Message> | OpenEdgeError {
    return this.wait<Message>(request, [destination], null, timeoutMs);
  }

  /** Waits for one response per member of `group`. */
  waitGroup(
    request: Message,
    group: string,
    members: readonly string[],
    timeoutMs: number,
  ): Waiting<Message[]> | OpenEdgeError {
    return this.wait<Message[]>(request, members, group, timeoutMs);
  }

  /** Records a send parked on a full queue, so the request's end cancels it. */
  parked(entry: Entry, sender: BlockedSender): void {
    if (!this.entries.has(entry.id)) {
      sender.cancelled = true;
      return;
    }
    if (entry.blocked === null) entry.blocked = [sender];
    else entry.blocked.push(sender);
  }

  /** Hands `resp` to the request it answers; false when no request waits for it. */
  deliver(resp: Message): boolean {
    const entry = this.entries.get(resp.header.parentId);
    if (entry === undefined) return false;
    if (entry.answers === null) {
      this.finish(entry);
      entry.resolve(resp);
      return true;
    }
    const member = resp.route.source;
    // a stranger's or a repeated answer is absorbed here: it belongs to this request, not to a queue
    if (!entry.members.includes(member) || entry.answers.has(member)) return true;
    entry.answers.set(member, resp);
    if (entry.answers.size === entry.members.length) {
      this.finish(entry);
      const ordered = entry.members.map((m) => entry.answers?.get(m) as Message);
      entry.resolve(ordered);
    }
    return true;
  }

  /** Ends the request `id` with `error` (its send failed, or its destination went away). */
  fail(id: string, error: Error): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.finish(entry);
    entry.reject(error);
  }

  /** Ends every single request addressed to `module` with `error`. */
  failDestination(module: string, error: Error): void {
    for (const entry of this.entries.values()) {
      if (entry.group === null && entry.members[0] === module) this.fail(entry.id, error);
    }
  }

  failAll(error: Error): void {
    for (const id of [...this.entries.keys()]) this.fail(id, error);
  }

  private wait<T>(
    request: Message,
    members: readonly string[],
    group: string | null,
    timeoutMs: number,
  ): Waiting<T> | OpenEdgeError {
    const id = request.header.id;
    if (this.entries.has(id)) {
      return new OpenEdgeError("ERR_CONFLICT", `a sync request with id "${id}" is already pending`, {
        details: { id },
      });
    }
    let entry!: Entry;
    const promise = new Promise<T>((resolve, reject) => {
      entry = {
        id,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: null,
        blocked: null,
        members,
        group,
        answers: group === null ? null : new Map(),
      };
    });
    this.entries.set(id, entry);
    entry.timer = this.clock.setTimeout(() => this.timeout(entry, request, timeoutMs), timeoutMs);
    return { promise, entry };
  }

  private timeout(entry: Entry, request: Message, timeoutMs: number): void {
    if (this.entries.get(entry.id) !== entry) return;
    entry.timer = null;
    this.finish(entry);
    const route = request.route;
    const where = `${route.operation} ${route.resource} from "${route.source}"`;
    if (entry.answers === null) {
      entry.reject(
        new OpenEdgeError(
          "ERR_TIMEOUT",
          `no response to message ${entry.id} (${where}) from "${entry.members[0]}" within ${timeoutMs}ms`,
          { details: { id: entry.id, destination: entry.members[0], route, timeoutMs } },
        ),
      );
      return;
    }
    const missing = entry.members.filter((m) => !entry.answers?.has(m));
    entry.reject(
      new OpenEdgeError(
        "ERR_TIMEOUT",
        `no response to message ${entry.id} (${where}) from group "${entry.group}" members ${missing
          .map((m) => `"${m}"`)
          .join(", ")} within ${timeoutMs}ms`,
        { details: { id: entry.id, group: entry.group, missing, route, timeoutMs } },
      ),
    );
  }

  private finish(entry: Entry): void {
    this.entries.delete(entry.id);
    entry.timer?.cancel();
    entry.timer = null;
    if (entry.blocked !== null) for (const b of entry.blocked) b.cancelled = true;
    entry.blocked = null;
  }
}

export type SyncEntry = Entry;

export interface Waiting<T> {
  promise: Promise<T>;
  entry: Entry;
}
