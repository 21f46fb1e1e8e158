// Both runtimes as real processes of the compiled executable, called over their sockets: payload
// kinds, result kinds, handler errors (the instance survives), timeouts, startup errors, SIGTERM.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import type { CallOutcome, InvokeCall, RuntimeClient } from "../../src/function/index.ts";
import { runnableBelowCpus } from "../../src/lib/busy-poll.ts";
import { invokeCall } from "../fixtures/function/invoke-call.ts";
import { instanceDir, startRuntime } from "./function-runtime-procs.ts";
import { cleanupAll } from "./harness.ts";
import { until } from "./master-api.ts";
import { stat } from "./procs.ts";

afterAll(cleanupAll);

const call = (functionName: string, payload: string | Uint8Array, extra: Partial<InvokeCall> = {}) =>
  invokeCall(functionName, payload, { id: 3, topic: "in/t", functionInvokeId: "inv-9" }, extra);

function text(o: CallOutcome): string | null {
  if (!o.ok) throw new Error(`${o.errorType}: ${o.errorMessage}`);
  return o.payload === null ? null : Buffer.from(o.payload).toString();
}

const CONTEXT = {
  messageQOS: 1,
  messageTopic: "in/t",
  messageTimestamp: 1_700_000_000_000,
  functionInvokeID: "inv-9",
  invokeid: "inv-9",
};

const RUNTIMES = [
  {
    runtime: "python3" as const,
    fixture: "python" as const,
    yml: `functions:
  - {name: echo, handler: forms.echo, codedir: code}
  - {name: result, handler: forms.result, codedir: code}
  - {name: fail, handler: forms.fail, codedir: code}
  - {name: sleep, handler: forms.sleep, codedir: code, timeout: 300ms}
  - {name: spin, handler: forms.spin, codedir: code, timeout: 300ms}
`,
    bytesKind: "bytes",
    listKind: "list",
    failType: "ValueError",
    customType: "CustomError",
  },
  {
    runtime: "node" as const,
    fixture: "node" as const,
    yml: `functions:
  - {name: echo, handler: forms.echo, codedir: code}
  - {name: result, handler: forms.result, codedir: code}
  - {name: fail, handler: forms.fail, codedir: code}
  - {name: sleep, handler: forms.hang, codedir: code, timeout: 300ms}
  - {name: cb, handler: callback.handler, codedir: code}
`,
    bytesKind: "bytes",
    listKind: "array",
    failType: "TypeError",
    customType: "CustomError",
  },
];

for (const rt of RUNTIMES) {
  describe(`openedge-function-${rt.runtime}`, () => {
    let client: RuntimeClient;
    const proc = startRuntime(rt.runtime, instanceDir(rt.fixture, rt.yml));

    test("listens on OPENEDGE_SERVICE_INSTANCE_ADDRESS and logs that it is ready", async () => {
      client = await proc.connect();
      // the line follows listen(): a connect may be answered before it is written
      const log = await until(
        "the ready line",
        proc.stderr,
        (text) => text.includes("function_runtime_ready"),
        {
          timeoutMs: 5_000,
          intervalMs: 10,
        },
      );
      expect(log).toContain("function_runtime_ready");
    });

    test("JSON payload → decoded event; context carries the message metadata", async () => {
      const out = JSON.parse(text(await client.call(call("echo", '{"a":[1,2]}'), 5_000)) ?? "");
      expect(out).toEqual({ event: { a: [1, 2] }, context: { ...CONTEXT, functionName: "echo" } });
    });

    test("binary payload → bytes event", async () => {
      const out = JSON.parse(
        text(await client.call(call("echo", Buffer.from([0xff, 0, 0x80])), 5_000)) ?? "",
      );
      expect(out.event).toEqual({ bytes: "ff0080" });
    });

    test("results: dict/list → JSON, bytes raw, str UTF-8, None/empty → nothing", async () => {
      const r = async (kind: string) => client.call(call("result", JSON.stringify(kind)), 5_000);
      expect(JSON.parse(text(await r("other")) ?? "")).toEqual({ got: "other" });
      expect(JSON.parse(text(await r(rt.listKind)) ?? "")).toEqual([1, "two"]);
      const bytes = await r(rt.bytesKind);
      expect(bytes.ok && Buffer.from(bytes.payload ?? []).toString("hex")).toBe("00ff01");
      expect(text(await r("string"))).toBe("héllo");
      expect(text(await r(rt.runtime === "node" ? "null" : "none"))).toBeNull();
      expect(text(await r("empty"))).toBeNull();
    });

    test("a handler's exception is an error answer and the instance keeps serving", async () => {
      expect(await client.call(call("fail", '"custom"'), 5_000)).toEqual({
        ok: false,
        errorType: rt.customType,
        errorMessage: "custom failure",
      });
      expect(await client.call(call("fail", rt.runtime === "node" ? '"type"' : '"x"'), 5_000)).toMatchObject({
        ok: false,
        errorType: rt.failType,
      });
      expect(JSON.parse(text(await client.call(call("echo", "1"), 5_000)) ?? "").event).toBe(1);
    });

    test("a call past the function's timeout answers TimeoutError; the next call is served", async () => {
      const started = performance.now();
      expect(await client.call(call("sleep", "5"), 5_000)).toEqual({
        ok: false,
        errorType: "TimeoutError",
        errorMessage: 'function "sleep" timed out after 300 ms',
      });
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(await client.call(call("sleep", "5", { timeout: 50 }), 5_000)).toMatchObject({
        errorMessage: 'function "sleep" timed out after 50 ms',
      });
      expect(JSON.parse(text(await client.call(call("echo", "2"), 5_000)) ?? "").event).toBe(2);
    });

    if (rt.runtime === "python3") {
      test("a busy loop in Python is interrupted by the runtime's timer", async () => {
        expect(await client.call(call("spin", "1"), 5_000)).toMatchObject({ errorType: "TimeoutError" });
        expect(JSON.parse(text(await client.call(call("echo", "3"), 5_000)) ?? "").event).toBe(3);
      });

      test("a result JSON cannot encode is an error answer; the next results encode as before", async () => {
        const cycle = await client.call(call("result", '"cycle"'), 5_000);
        expect(cycle).toMatchObject({ ok: false, errorType: "ValueError" });
        expect(JSON.parse(text(await client.call(call("result", '"list"'), 5_000)) ?? "")).toEqual([
          1,
          "two",
        ]);
      });

      test("the timer an earlier call left armed neither cuts a later call short nor disturbs the idle runtime", async () => {
        // the quick call arms the timer for 300 ms; the next call starts 150 ms later and sleeps
        // 200 ms, so the timer fires inside it, 150 ms before its own deadline
        expect(text(await client.call(call("sleep", "0"), 5_000))).toBe("slept");
        await Bun.sleep(150);
        expect(text(await client.call(call("sleep", "0.2"), 5_000))).toBe("slept");
        await Bun.sleep(400); // the re-armed timer fires between calls
        expect(JSON.parse(text(await client.call(call("echo", "4"), 5_000)) ?? "").event).toBe(4);
        const started = performance.now();
        expect(await client.call(call("sleep", "5"), 5_000)).toMatchObject({ errorType: "TimeoutError" });
        expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      });
    } else {
      test("the exports.handler(event, context, callback) form", async () => {
        expect(JSON.parse(text(await client.call(call("cb", '"x"'), 5_000)) ?? "")).toEqual({
          hello: "x",
          fn: "cb",
        });
      });
    }

    test("an unknown functionName is an error answer", async () => {
      expect(await client.call(call("nope", "1"), 5_000)).toMatchObject({
        errorType: "UnknownFunctionError",
      });
    });

    test("SIGTERM: the runtime removes its socket and exits 0", async () => {
      client.close();
      proc.proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(existsSync(proc.socket)).toBe(false);
    });
  });

  test(`openedge-function-${rt.runtime}: busypoll keeps polling between close calls, not between sparse ones, and the idle runtime sleeps`, async () => {
    const p = startRuntime(
      rt.runtime,
      instanceDir(
        rt.fixture,
        "functions:\n  - {name: echo, handler: forms.echo, codedir: code}\nbusypoll: 10ms\n",
      ),
    );
    const c = await p.connect();
    const ticks = () => stat(p.proc.pid)?.cpuTicks ?? Number.NaN;
    // a call every ~5 ms: the 10 ms window never closes, so the runtime polls the whole time
    // polling gives way while every CPU has other work: note whether this machine let it poll
    let crowded = 0;
    let samples = 0;
    const t0 = ticks();
    const end = performance.now() + 400;
    while (performance.now() < end) {
      expect((await c.call(call("echo", "1"), 5_000)).ok).toBe(true);
      samples++;
      if (!runnableBelowCpus()) crowded++;
      await Bun.sleep(5);
    }
    const busy = ticks() - t0;
    await Bun.sleep(50); // past the window
    const t1 = ticks();
    await Bun.sleep(400);
    const idle = ticks() - t1;
    // a call every ~30 ms: each comes long after a window would have closed, so the window shrinks to
    // nothing and the runtime sleeps between calls (a fixed 10 ms window would burn a third of a core)
    const t2 = ticks();
    const sparseEnd = performance.now() + 600;
    while (performance.now() < sparseEnd) {
      expect((await c.call(call("echo", "1"), 5_000)).ok).toBe(true);
      await Bun.sleep(30);
    }
    const sparse = ticks() - t2;
    // at least 100 ms of CPU in those 400 ms, unless other work held the CPUs most of that time
    if (crowded < samples / 4) expect(busy).toBeGreaterThanOrEqual(10);
    expect(idle).toBeLessThanOrEqual(2);
    expect(sparse).toBeLessThanOrEqual(6); // the first calls may still poll while the window shrinks
    c.close();
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  describe(`openedge-function-${rt.runtime} startup errors`, () => {
    test("a syntax error: exit 1 naming the file in the log", async () => {
      const file = rt.runtime === "node" ? "broken.js" : "broken.py";
      const p = startRuntime(
        rt.runtime,
        instanceDir(rt.fixture, "functions:\n  - {name: b, handler: broken.handler, codedir: code}\n"),
      );
      expect(await p.exited).toBe(1);
      expect(p.stderr()).toContain("function_runtime_start_failed");
      expect(p.stderr()).toContain(file);
      expect(p.stderr()).toMatch(/[Ss]yntax/);
    });

    test("a missing module or function: exit 1 naming it", async () => {
      const p = startRuntime(
        rt.runtime,
        instanceDir(rt.fixture, "functions:\n  - {name: a, handler: forms.absent, codedir: code}\n"),
      );
      expect(await p.exited).toBe(1);
      expect(p.stderr()).toContain("absent");
      const q = startRuntime(
        rt.runtime,
        instanceDir(rt.fixture, "functions:\n  - {name: a, handler: nomod.handler, codedir: code}\n"),
      );
      expect(await q.exited).toBe(1);
      expect(q.stderr()).toContain("nomod");
    });

    test("an invalid service.yml: exit 1 naming the field", async () => {
      const p = startRuntime(
        rt.runtime,
        instanceDir(rt.fixture, "functions:\n  - {name: a, handler: nodot}\n"),
      );
      expect(await p.exited).toBe(1);
      expect(p.stderr()).toContain("functions[0].handler");
    });
  });
}

describe("openedge-function-python3 interpreter", () => {
  test("runtime.python3 names the interpreter; a missing one is a clear startup error", async () => {
    const p = startRuntime(
      "python3",
      instanceDir(
        "python",
        "functions:\n  - {name: e, handler: forms.echo, codedir: code}\nruntime:\n  python3: /nonexistent/python3\n",
      ),
    );
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain("/nonexistent/python3");
  });
});
