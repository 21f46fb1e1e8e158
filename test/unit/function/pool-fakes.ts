// Fakes for pool tests: a starter that records starts and stops (each stop may be held open), and
// runtime links whose calls the test answers, crashes or lets time out on the FakeClock.

import type { CallOutcome, InstanceStarter, InvokeCall, RuntimeLink } from "../../../src/function/index.ts";
import type { FakeClock } from "../../../src/lib/clock.ts";
import { OpenEdgeError } from "../../../src/lib/errors.ts";

export interface PendingCall {
  call: InvokeCall;
  answer(outcome?: CallOutcome): void;
}

export class FakeLink implements RuntimeLink {
  readonly pending: PendingCall[] = [];
  private readonly listeners: (() => void)[] = [];
  private rejecters = new Set<(e: Error) => void>();
  closed = false;

  constructor(
    readonly socket: string,
    private readonly clock: FakeClock,
  ) {}

  call(call: InvokeCall, timeoutMs: number): Promise<CallOutcome> {
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.rejecters.delete(reject);
        reject(new OpenEdgeError("ERR_TIMEOUT", "no answer"));
      }, timeoutMs);
      this.rejecters.add(reject);
      this.pending.push({
        call,
        answer: (outcome = { ok: true, payload: Buffer.from(`done:${call.functionInvokeId}`) }) => {
          timer.cancel();
          this.rejecters.delete(reject);
          resolve(outcome);
        },
      });
    });
  }

  onClose(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The runtime died: calls in flight fail with ERR_CLOSED, listeners hear of it. */
  crash(): void {
    this.closed = true;
    for (const l of this.listeners.splice(0)) l();
    for (const r of this.rejecters) r(new OpenEdgeError("ERR_CLOSED", "connection closed by the runtime"));
    this.rejecters.clear();
  }

  close(): void {
    this.closed = true;
    this.listeners.length = 0;
  }

  /** Answers the oldest unanswered call. */
  answerNext(outcome?: CallOutcome): InvokeCall {
    const next = this.pending.shift();
    if (next === undefined) throw new Error(`no call pending on ${this.socket}`);
    next.answer(outcome);
    return next.call;
  }
}

export class FakeStarter implements InstanceStarter {
  readonly started: { instance: string; env: Record<string, string> }[] = [];
  readonly stopped: string[] = [];
  /** While set, stops wait for `releaseStops()`. */
  holdStops = false;
  /** While set, starts fail with this message. */
  failStarts: string | null = null;
  private held: (() => void)[] = [];

  async start(_service: string, instance: string, env: Record<string, string>): Promise<void> {
    if (this.failStarts !== null) throw new OpenEdgeError("ERR_ENGINE", this.failStarts);
    this.started.push({ instance, env });
  }

  stop(_service: string, instance: string): Promise<void> {
    this.stopped.push(instance);
    if (!this.holdStops) return Promise.resolve();
    return new Promise((resolve) => this.held.push(resolve));
  }

  releaseStops(): void {
    for (const r of this.held.splice(0)) r();
  }
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
