// One rule at work: its hub client's subscription feeds the function's pool; each output (or error
// object) is published at min(input QoS, publish.qos), and a QoS 1 input is acknowledged only once
// that publish is accepted. At most `limit` messages are in flight; past that the subscription waits.

import { randomUUID } from "node:crypto";
import type { InprocHandler, InprocMessage, PublishOptions } from "../hub/index.ts";
import type { Clock } from "../lib/clock.ts";
import { errorMessage, OpenEdgeError } from "../lib/errors.ts";
import type { Logger } from "../log/index.ts";
import type { ManagedFunction, RuleConfig } from "./manager-config.ts";
import { errorObject, invocationError, MESSAGE_TOO_LARGE, outputOf } from "./manager-output.ts";
import type { CallOutcome, InvokeCall } from "./protocol.ts";

/** What a rule needs of its hub client (the hub's in-process client). */
export interface RuleClient {
  publish(topic: string, payload: Uint8Array, options?: PublishOptions): Promise<void>;
  subscribe(filter: string, qos: 0 | 1 | 2, handler: InprocHandler): 0 | 1 | 2 | 0x80;
  /** The session's filters (a persistent session keeps those of an earlier configuration). */
  filters(): string[];
  unsubscribe(filter: string): void;
  close(): void;
}

export interface RuleDeps {
  client: RuleClient;
  invoke: (call: InvokeCall) => Promise<CallOutcome>;
  /** Messages in flight before the subscription is slowed down. */
  limit: number;
  clock: Clock;
  log: Logger;
}

export interface RuleStats {
  received: number;
  published: number;
  errors: number;
  inflight: number;
}

export class RuleRunner {
  private inflight = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly tails = new Map<string, Promise<void>>();
  private closed = false;
  private readonly counters = { received: 0, published: 0, errors: 0 };
  private readonly log: Logger;

  constructor(
    readonly rule: RuleConfig,
    private readonly fn: ManagedFunction,
    private readonly deps: RuleDeps,
  ) {
    this.log = deps.log.child({ rule: rule.clientid, function: fn.name });
  }

  /**
   * Subscribes; a refused subscription is a config error naming the rule. The session is persistent
   * (messages taken but not yet answered come back after a restart), so a filter an earlier
   * configuration of this rule subscribed to is dropped here.
   */
  start(): void {
    const { topic, qos } = this.rule.subscribe;
    for (const stale of this.deps.client.filters()) {
      if (stale !== topic) this.deps.client.unsubscribe(stale);
    }
    const granted = this.deps.client.subscribe(topic, qos, (m) => this.onMessage(m));
    if (granted === 0x80) {
      throw new OpenEdgeError(
        "ERR_CONFIG",
        `rule "${this.rule.clientid}": subscribe.topic "${topic}" refused by the hub`,
        {
          details: { clientid: this.rule.clientid, topic },
        },
      );
    }
    this.log.info("function_rule_started", { topic, qos, publish: this.rule.publish.topic });
  }

  stats(): RuleStats {
    return { ...this.counters, inflight: this.inflight };
  }

  /** Stops taking messages; unacknowledged ones stay with the hub. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.client.close();
    for (const wake of this.slotWaiters.splice(0)) wake();
  }

  private async onMessage(message: InprocMessage): Promise<{ ack: Promise<void> }> {
    this.counters.received++;
    await this.takeSlot(); // backpressure: the hub delivers nothing more to this client meanwhile
    let done: Promise<void>;
    if (this.rule.ordered) {
      const previous = this.tails.get(message.topic) ?? Promise.resolve();
      const run = () => this.handle(message);
      done = previous.then(run, run);
      this.tails.set(message.topic, done);
      const clear = () => {
        if (this.tails.get(message.topic) === done) this.tails.delete(message.topic);
      };
      done.then(clear, clear);
    } else {
      done = this.handle(message);
    }
    const release = () => this.releaseSlot();
    done.then(release, release);
    return { ack: done };
  }

  /** Runs the call and publishes its output; rejects (no acknowledgement) only when closing. */
  private async handle(message: InprocMessage): Promise<void> {
    if (this.closed) throw this.closedError();
    const call: InvokeCall = {
      id: 0,
      qos: message.qos,
      topic: message.topic,
      payload: message.payload,
      timestamp: this.deps.clock.now(),
      functionName: this.fn.name,
      functionInvokeId: randomUUID(),
    };
    let output: Uint8Array | null;
    if (call.payload.length > this.fn.messageMaxBytes) {
      output = errorObject(call, {
        errorType: MESSAGE_TOO_LARGE,
        errorMessage: `message of ${call.payload.length} bytes over message.length.max (${this.fn.messageMaxBytes})`,
      });
      this.counters.errors++;
    } else {
      const outcome = await this.invoke(call);
      if (!outcome.ok) {
        this.counters.errors++;
        this.log.debug("function_call_failed", { errorType: outcome.errorType, error: outcome.errorMessage });
      }
      output = outputOf(call, outcome);
    }
    if (output === null) return;
    if (this.closed) throw this.closedError();
    const qos = Math.min(message.qos, this.rule.publish.qos) as 0 | 1;
    await this.deps.client.publish(this.rule.publish.topic, output, { qos });
    this.counters.published++;
  }

  /** Up to retry.max attempts when the call cannot be run; a handler's own error is an outcome. */
  private async invoke(call: InvokeCall): Promise<CallOutcome> {
    let last: unknown;
    for (let attempt = 1; attempt <= this.rule.retry.max; attempt++) {
      if (this.closed) throw this.closedError();
      try {
        return await this.deps.invoke(call);
      } catch (error) {
        last = error;
        this.log.warn("function_call_attempt_failed", {
          attempt,
          of: this.rule.retry.max,
          error: errorMessage(error),
        });
      }
    }
    if (this.closed) throw this.closedError();
    return { ok: false, ...invocationError(last) };
  }

  private async takeSlot(): Promise<void> {
    while (this.inflight >= this.deps.limit && !this.closed) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
    this.inflight++;
  }

  private releaseSlot(): void {
    this.inflight--;
    this.slotWaiters.shift()?.();
  }

  private closedError(): OpenEdgeError {
    return new OpenEdgeError("ERR_CLOSED", `rule "${this.rule.clientid}" is closed`);
  }
}
