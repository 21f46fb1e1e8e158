// Transport-free core of a runtime instance: one call message in, its answer message out, calls run
// strictly one at a time in arrival order (the pool scales instances, not calls per instance).

import type { Message } from "../beehive/index.ts";
import {
  type CallOutcome,
  ErrorType,
  errorAnswer,
  type InvokeCall,
  isInvokeError,
  parseCall,
  resultAnswer,
} from "./protocol.ts";

/** Runs a call; never throws (failures are error outcomes). */
export interface Invoker {
  invoke(call: InvokeCall): Promise<CallOutcome>;
}

export class RuntimeCore {
  private tail: Promise<unknown> = Promise.resolve();
  private running = 0;

  constructor(private readonly invoker: Invoker) {}

  /** Calls accepted and not yet answered (the one running included). */
  get pending(): number {
    return this.running;
  }

  /** The answer to `msg`, after every call that arrived before it has been answered. */
  handle(msg: Message): Promise<Message> {
    this.running++;
    const answer = this.tail.then(() => this.answer(msg));
    this.tail = answer.finally(() => {
      this.running--;
    });
    return answer;
  }

  private async answer(msg: Message): Promise<Message> {
    const call = parseCall(msg);
    if (isInvokeError(call)) return errorAnswer(msg, call);
    let outcome: CallOutcome;
    try {
      outcome = await this.invoker.invoke(call);
    } catch (error) {
      // an invoker must not throw; if one does, the caller still gets an answer
      outcome = {
        ok: false,
        errorType: ErrorType.badRequest,
        errorMessage: error instanceof Error ? error.message : String(error),
      };
    }
    return outcome.ok ? resultAnswer(msg, outcome.payload) : errorAnswer(msg, outcome);
  }
}
