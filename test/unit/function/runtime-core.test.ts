// The runtime core: answers in arrival order, at once for handlers that return a value, after the
// running call for those that wait, and an error answer whatever the invoker does.

import { describe, expect, test } from "bun:test";
import type { Message } from "../../../src/beehive/index.ts";
import type { CallOutcome, InvokeCall } from "../../../src/function/index.ts";
import { buildCallMessage, parseAnswer } from "../../../src/function/protocol.ts";
import { type Invoker, RuntimeCore } from "../../../src/function/runtime-core.ts";
import { invokeCall } from "../../fixtures/function/invoke-call.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** `sync:x` answers at once; `wait:x` answers when released; `throw` throws. */
class ScriptedInvoker implements Invoker {
  readonly waiting: Array<() => void> = [];
  invoke(call: InvokeCall): CallOutcome | Promise<CallOutcome> {
    const name = new TextDecoder().decode(call.payload);
    if (name === "throw") throw new Error("invoker broke");
    const outcome: CallOutcome = { ok: true, payload: text(`done ${name}`) };
    if (name.startsWith("sync:")) return outcome;
    return new Promise((resolve) => this.waiting.push(() => resolve(outcome)));
  }
}

function run(core: RuntimeCore, names: string[], answers: string[]): void {
  for (const name of names) {
    const msg = buildCallMessage(invokeCall("f", name, { id: 1, topic: "t", functionInvokeId: name }));
    core.handle(msg, (answer: Message) => {
      const parsed = parseAnswer(answer);
      if (parsed === null) throw new Error("unparsable answer");
      expect(parsed.parentId).toBe(msg.header.id);
      const o = parsed.outcome;
      answers.push(o.ok ? new TextDecoder().decode(o.payload ?? new Uint8Array()) : o.errorMessage);
    });
  }
}

describe("RuntimeCore", () => {
  test("a handler that returns a value is answered before handle() returns", () => {
    const core = new RuntimeCore(new ScriptedInvoker());
    const answers: string[] = [];
    run(core, ["sync:a", "sync:b"], answers);
    expect(answers).toEqual(["done sync:a", "done sync:b"]);
  });

  test("calls behind a waiting one wait for it, and all are answered in arrival order", async () => {
    const invoker = new ScriptedInvoker();
    const core = new RuntimeCore(invoker);
    const answers: string[] = [];
    run(core, ["sync:1", "wait:2", "sync:3", "wait:4", "sync:5"], answers);
    expect(answers).toEqual(["done sync:1"]);
    expect(invoker.waiting).toHaveLength(1); // wait:4 has not started
    invoker.waiting.shift()?.();
    await Bun.sleep(0);
    expect(answers).toEqual(["done sync:1", "done wait:2", "done sync:3"]);
    invoker.waiting.shift()?.();
    await Bun.sleep(0);
    expect(answers).toEqual(["done sync:1", "done wait:2", "done sync:3", "done wait:4", "done sync:5"]);
  });

  test("an invoker that throws, and a message that is no call, still get error answers", () => {
    const core = new RuntimeCore(new ScriptedInvoker());
    const answers: string[] = [];
    run(core, ["throw"], answers);
    const notACall = buildCallMessage(invokeCall("f", "x", {}));
    notACall.route.operation = "query";
    core.handle(notACall, (answer) =>
      answers.push(String((answer.content as { errorType: string }).errorType)),
    );
    run(core, ["sync:after"], answers);
    expect(answers).toEqual(["invoker broke", "BadRequestError", "done sync:after"]);
  });
});
