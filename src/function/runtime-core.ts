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

/** Runs a call; never throws (failures are error outcomes). A plain outcome is a call already done. */
export interface Invoker {
  invoke(call: InvokeCall): CallOutcome | Promise<CallOutcome>;
}

type Reply = (answer: Message) => void;

export class RuntimeCore {
  /** Calls that arrived while one was running, in order. */
  private readonly waiting: Array<[Message, Reply]> = [];
  private running = false;

  constructor(private readonly invoker: Invoker) {}

  /**
   * Answers `msg` through `reply` once every call that arrived before it has been answered: at once
   * (synchronously) when nothing runs and the handler finishes without waiting, which spares the
   * promises and turns of the async path for the common handler.
   */
  handle(msg: Message, reply: Reply): void {
    if (this.running) {
      this.waiting.push([msg, reply]);
      return;
    }
    this.drain(msg, reply);
  }

  private drain(msg: Message, reply: Reply): void {
    let next: [Message, Reply] | undefined = [msg, reply];
    while (next !== undefined) {
      const [m, r] = next;
      const answer = this.answer(m);
      if (answer instanceof Promise) {
        this.running = true;
        void answer.then((done) => {
          this.running = false;
          r(done);
          const queued = this.waiting.shift();
          if (queued !== undefined) this.drain(...queued);
        });
        return;
      }
      r(answer);
      next = this.waiting.shift();
    }
  }

  private answer(msg: Message): Message | Promise<Message> {
    const call = parseCall(msg);
    if (isInvokeError(call)) return errorAnswer(msg, call);
    let outcome: CallOutcome | Promise<CallOutcome>;
    try {
      outcome = this.invoker.invoke(call);
    } catch (error) {
      return answerOf(msg, invokerFailure(error));
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (done) => answerOf(msg, done),
        (error: unknown) => answerOf(msg, invokerFailure(error)),
      );
    }
    return answerOf(msg, outcome);
  }
}

/** An invoker must not throw; if one does, the caller still gets an answer. */
function invokerFailure(error: unknown): CallOutcome {
  return {
    ok: false,
    errorType: ErrorType.badRequest,
    errorMessage: error instanceof Error ? error.message : String(error),
  };
}

function answerOf(msg: Message, outcome: CallOutcome): Message {
  return outcome.ok ? resultAnswer(msg, outcome.payload) : errorAnswer(msg, outcome);
}
