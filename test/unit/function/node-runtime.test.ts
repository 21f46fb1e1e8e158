import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type CallOutcome,
  type FunctionSpec,
  type InvokeCall,
  invokeFunction,
  type LoadedFunction,
  loadFunction,
  loadFunctions,
  NodeInvoker,
  RuntimeClient,
  RuntimeServer,
} from "../../../src/function/index.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { invokeCall } from "../../fixtures/function/invoke-call.ts";

const CODE = resolve(import.meta.dir, "../../fixtures/function/node");

function spec(name: string, handler: string, timeoutMs = 30_000): FunctionSpec {
  const dot = handler.lastIndexOf(".");
  return {
    name,
    handler,
    module: handler.slice(0, dot),
    exportName: handler.slice(dot + 1),
    codedir: CODE,
    timeoutMs,
  };
}

const call = (functionName: string, payload: string | Uint8Array, extra: Partial<InvokeCall> = {}) =>
  invokeCall(functionName, payload, {}, extra);

const SPECS = [
  spec("echo", "forms.echo"),
  spec("result", "forms.result"),
  spec("fail", "forms.fail"),
  spec("hang", "forms.hang", 1_000),
  spec("cb", "callback.handler"),
  spec("sync", "callback.sync"),
];

async function invoker(clock?: FakeClock): Promise<NodeInvoker> {
  return new NodeInvoker(await loadFunctions(SPECS), clock);
}

function text(outcome: CallOutcome): string | null {
  if (!outcome.ok) throw new Error(`${outcome.errorType}: ${outcome.errorMessage}`);
  return outcome.payload === null ? null : Buffer.from(outcome.payload).toString();
}

describe("JavaScript runtime: handlers", () => {
  test("async TypeScript export gets the JSON event and OpenEdge's context", async () => {
    const inv = await invoker();
    const out = JSON.parse(text(await inv.invoke(call("echo", '{"a":1}'))) ?? "");
    expect(out).toEqual({
      event: { a: 1 },
      context: {
        messageQOS: 1,
        messageTopic: "t",
        messageTimestamp: 1_700_000_000_000,
        functionName: "echo",
        functionInvokeID: "inv-1",
        invokeid: "inv-1",
      },
    });
  });

  test("a payload that is not JSON arrives as a Buffer", async () => {
    const inv = await invoker();
    const out = JSON.parse(text(await inv.invoke(call("echo", Buffer.from([0xff, 0])))) ?? "");
    expect(out.event).toEqual({ bytes: "ff00" });
  });

  test("exports.handler with a callback, and a plain synchronous CommonJS export", async () => {
    const inv = await invoker();
    expect(JSON.parse(text(await inv.invoke(call("cb", '"x"'))) ?? "")).toEqual({ hello: "x", fn: "cb" });
    expect(await inv.invoke(call("cb", '{"err":"nope"}'))).toEqual({
      ok: false,
      errorType: "Error",
      errorMessage: "nope",
    });
    expect(text(await inv.invoke(call("sync", "[1]")))).toBe('{"sync":[1]}');
  });

  test.each([
    ["null", null],
    ["undefined", null],
    ["empty", null],
    ["string", "héllo"],
    ["array", '[1,"two"]'],
    ["number", "42"],
    ["other", '{"got":"other"}'],
  ])("result %s maps to %p", async (kind, expected) => {
    const inv = await invoker();
    expect(text(await inv.invoke(call("result", JSON.stringify(kind))))).toBe(expected);
  });

  test("Buffer and Uint8Array results are published as they are", async () => {
    const inv = await invoker();
    const bytes = await inv.invoke(call("result", '"bytes"'));
    expect(bytes.ok && Buffer.from(bytes.payload ?? []).toString("hex")).toBe("00ff01");
    const u8 = await inv.invoke(call("result", '"uint8"'));
    expect(u8.ok && Buffer.from(u8.payload ?? []).toString("hex")).toBe("0708");
  });

  test.each([
    ["custom", "CustomError", "custom failure"],
    ["string", "Error", "a bare string"],
    ["type", "TypeError", "bad type"],
    ["reject", "RangeError", "rejected"],
  ])("a %s failure becomes an error answer (%s)", async (kind, errorType, errorMessage) => {
    const inv = await invoker();
    expect(await inv.invoke(call("fail", JSON.stringify(kind)))).toEqual({
      ok: false,
      errorType,
      errorMessage,
    });
    // and the runtime keeps serving
    expect(text(await inv.invoke(call("sync", "1")))).toBe('{"sync":1}');
  });

  test("a handler past its timeout answers TimeoutError; a call may ask for less", async () => {
    const clock = new FakeClock();
    const inv = await invoker(clock);
    const pending = inv.invoke(call("hang", "1"));
    await clock.advance(999);
    const shorter = inv.invoke(call("hang", "1", { timeout: 10 }));
    await clock.advance(10);
    expect(await shorter).toEqual({
      ok: false,
      errorType: "TimeoutError",
      errorMessage: 'function "hang" timed out after 10 ms',
    });
    await clock.advance(1);
    expect(await pending).toMatchObject({ ok: false, errorType: "TimeoutError" });
  });

  test("a value is answered at once; a promise's timeout counts from the call's start", async () => {
    const clock = new FakeClock();
    const inv = await invoker(clock);
    expect(inv.invoke(call("sync", "1"))).not.toBeInstanceOf(Promise); // returns a plain value
    const slowStart: LoadedFunction = {
      spec: spec("slow", "forms.slow", 1_000),
      file: "inline",
      // 600 ms of synchronous work, then a promise that never settles
      fn: () => {
        void clock.advance(600);
        return new Promise(() => {});
      },
      callbackStyle: false,
    };
    let outcome: CallOutcome | undefined;
    void Promise.resolve(invokeFunction(slowStart, call("slow", "1"), 1_000, clock)).then((o) => {
      outcome = o;
    });
    await clock.advance(399);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    expect(outcome).toEqual({
      ok: false,
      errorType: "TimeoutError",
      errorMessage: 'function "slow" timed out after 1000 ms',
    });
  });

  test("an unknown function name is an error answer naming the ones there are", async () => {
    const inv = await invoker();
    expect(await inv.invoke(call("nope", "1"))).toMatchObject({
      ok: false,
      errorType: "UnknownFunctionError",
      errorMessage: expect.stringContaining("echo, result"),
    });
  });
});

describe("JavaScript runtime: load errors", () => {
  test("a syntax error names the file", async () => {
    await expect(loadFunction(spec("b", "broken.handler"))).rejects.toThrow(/cannot load ".*broken\.js"/);
  });
  test("a missing export names the export", async () => {
    await expect(loadFunction(spec("b", "callback.missing"))).rejects.toThrow(/no function export "missing"/);
  });
  test("a missing module names the codedir", async () => {
    await expect(loadFunction(spec("b", "absent.handler"))).rejects.toThrow(/no module "absent" in/);
  });
});

describe("JavaScript runtime: over its socket", () => {
  const dir = mkdtempSync(join(tmpdir(), "oe-fn-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("calls are answered in order, one at a time, by parentId", async () => {
    const path = join(dir, "rt.sock");
    const server = new RuntimeServer({ path, invoker: await invoker() });
    await server.listen();
    const client = await RuntimeClient.connect(path, { deadlineMs: 2_000 });
    try {
      const answers = await Promise.all(
        ["1", "2", "3"].map((p) => client.call(call("sync", p), 5_000).then(text)),
      );
      expect(answers).toEqual(['{"sync":1}', '{"sync":2}', '{"sync":3}']);
      expect(await client.call(call("fail", '"type"'), 5_000)).toMatchObject({ errorType: "TypeError" });
    } finally {
      client.close();
      await server.close();
    }
  });

  test("the client stops trying at once when `gone` names a reason (the instance ended)", async () => {
    let attempts = 0;
    const gone = () => (++attempts >= 3 ? "instance ended" : undefined);
    await expect(
      RuntimeClient.connect(join(dir, "none.sock"), { deadlineMs: 10_000, gone }),
    ).rejects.toMatchObject({ code: "ERR_ENGINE", message: "instance ended" });
    expect(attempts).toBe(3);
  });

  test("the client gives up connecting at its deadline; a closed runtime fails calls with ERR_CLOSED", async () => {
    await expect(RuntimeClient.connect(join(dir, "none.sock"), { deadlineMs: 50 })).rejects.toMatchObject({
      code: "ERR_TIMEOUT",
    });
    const path = join(dir, "rt2.sock");
    const server = new RuntimeServer({ path, invoker: await invoker() });
    await server.listen();
    const client = await RuntimeClient.connect(path);
    const closed = new Promise<void>((r) => client.onClose(r));
    const pending = client.call(call("hang", "1"), 5_000);
    await server.close();
    await expect(pending).rejects.toMatchObject({ code: "ERR_CLOSED" });
    await closed;
  });
});
