// The pending-response table of sendSync and sendToGroupSync: one entry per request id, removed on
// answer, timeout or failure, so nothing outlives its request. Timeouts share one clock timer armed for
// the earliest deadline of a min-heap (a timer per request would cost more than the request itself).

import type { Clock, TimerHandle } from "../lib/clock.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import { DeadlineHeap, type HeapItem } from "./deadline-heap.ts";
import type { Message } from "./model.ts";
import type { BlockedSender } from "./module-queue.ts";

interface Entry extends HeapItem {
  readonly request: Message;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly deadline: number;
  readonly timeoutMs: number;
  done: boolean;
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
  /** Pending entries by deadline; an entry leaves it when it finishes. */
  private readonly deadlines = new DeadlineHeap<Entry>();
  private timer: TimerHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly onTimer = () => this.expireDue();
  private idleCheckScheduled = false;
  private readonly idleCheck = () => {
    this.idleCheckScheduled = false;
    if (this.entries.size === 0) this.disarm();
  };

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.entries.size;
  }

  /** Waits for the response to `request` from `destination`; an error when its id is already pending. */
  waitOne(request: Message, destination: string, timeoutMs: number): Promise<Message> | OpenEdgeError {
    return this.wait<Message>(request, [destination], null, timeoutMs);
  }

  /** Waits for one response per member of `group`. */
  waitGroup(
    request: Message,
    group: string,
    members: readonly string[],
    timeoutMs: number,
  ): Promise<Message[]> | OpenEdgeError {
    return this.wait<Message[]>(request, members, group, timeoutMs);
  }

  /** Records a send parked on a full queue, so the request's end cancels it. */
  parked(id: string, sender: BlockedSender): void {
    const entry = this.entries.get(id);
    if (entry === undefined) {
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
      entry.resolve(entry.members.map((m) => entry.answers?.get(m) as Message));
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
    for (const entry of [...this.entries.values()]) {
      if (entry.group === null && entry.members[0] === module) this.fail(entry.request.header.id, error);
    }
  }

  /** Fails everything and drops the timer (a context closing must not keep the process alive). */
  failAll(error: Error): void {
    for (const id of [...this.entries.keys()]) this.fail(id, error);
    this.deadlines.clear();
    this.disarm();
  }

  private wait<T>(
    request: Message,
    members: readonly string[],
    group: string | null,
    timeoutMs: number,
  ): Promise<T> | OpenEdgeError {
    const id = request.header.id;
    if (this.entries.has(id)) {
      return new OpenEdgeError("ERR_CONFLICT", `a sync request with id "${id}" is already pending`, {
        details: { id },
      });
    }
    const deadline = this.clock.monotonic() + timeoutMs;
    let entry!: Entry;
    const promise = new Promise<T>((resolve, reject) => {
      entry = {
        request,
        resolve: resolve as (value: unknown) => void,
        reject,
        deadline,
        timeoutMs,
        heapIndex: -1,
        heapSeq: 0,
        done: false,
        blocked: null,
        members,
        group,
        answers: group === null ? null : new Map(),
      };
    });
    this.entries.set(id, entry);
    this.deadlines.push(entry);
    if (deadline < this.timerAt) this.arm(deadline);
    return promise;
  }

  private arm(at: number): void {
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(this.onTimer, Math.max(0, Math.ceil(at - this.clock.monotonic())));
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private expireDue(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.monotonic();
    for (let head = this.deadlines.peek(); head !== undefined; head = this.deadlines.peek()) {
      if (head.deadline > now) {
        this.arm(head.deadline);
        return;
      }
      this.timeout(head);
    }
  }

  private timeout(entry: Entry): void {
    this.finish(entry);
    const { request, timeoutMs } = entry;
    const route = request.route;
    const id = request.header.id;
    const where = `${route.operation} ${route.resource} from "${route.source}"`;
    if (entry.answers === null) {
      entry.reject(
        new OpenEdgeError(
          "ERR_TIMEOUT",
          `no response to message ${id} (${where}) from "${entry.members[0]}" within ${timeoutMs}ms`,
          { details: { id, destination: entry.members[0], route, timeoutMs } },
        ),
      );
      return;
    }
    const missing = entry.members.filter((m) => !entry.answers?.has(m));
    entry.reject(
      new OpenEdgeError(
        "ERR_TIMEOUT",
        `no response to message ${id} (${where}) from group "${entry.group}" members ${missing
          .map((m) => `"${m}"`)
          .join(", ")} within ${timeoutMs}ms`,
        { details: { id, group: entry.group, missing, route, timeoutMs } },
      ),
    );
  }

  private finish(entry: Entry): void {
    this.entries.delete(entry.request.header.id);
    entry.done = true;
    if (entry.blocked !== null) for (const b of entry.blocked) b.cancelled = true;
    entry.blocked = null;
    this.deadlines.remove(entry);
    // the timer stays armed while requests come back to back (a timer per request costs more than the
    // request); once a whole event-loop turn passed with nothing pending it is dropped, so an idle
    // context never keeps the process alive
    if (this.entries.size === 0 && this.timer !== null && !this.idleCheckScheduled) {
      this.idleCheckScheduled = true;
      setImmediate(this.idleCheck);
    }
  }
}
