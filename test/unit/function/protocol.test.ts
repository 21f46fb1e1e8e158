import { describe, expect, test } from "bun:test";
import {
  encodeFrame,
  FrameDecoder,
  jsonCodec,
  type Message,
  msgpackCodec,
} from "../../../src/beehive/index.ts";
import {
  buildCallMessage,
  errorAnswer,
  type InvokeCall,
  isInvokeError,
  parseAnswer,
  parseCall,
  resultAnswer,
  socketPathOf,
} from "../../../src/function/index.ts";

const call: InvokeCall = {
  id: 7,
  qos: 1,
  topic: "t/in",
  payload: Buffer.from([0, 255, 1]),
  timestamp: 1_700_000_000_000,
  functionName: "sayhi",
  functionInvokeId: "inv-1",
};

function roundTrip(value: unknown, codec = jsonCodec): unknown {
  const out: unknown[] = [];
  new FrameDecoder((v) => out.push(v)).push(encodeFrame(codec, value));
  return out[0];
}

describe("invocation protocol", () => {
  test("a call is a beehive invoke message whose payload travels as {$bin: base64} under JSON", () => {
    const msg = buildCallMessage(call);
    expect(msg.route).toEqual({
      source: "function-manager",
      destination: "sayhi",
      group: "function",
      operation: "invoke",
      resource: "function",
    });
    const frame = encodeFrame(jsonCodec, msg);
    expect(Buffer.from(frame.subarray(0, 8)).toString("latin1")).toBe("beehv1\0\0");
    const body = JSON.parse(Buffer.from(frame.subarray(12)).toString("utf8"));
    expect(body.content.payload).toEqual({ $bin: "AP8B" });
    const back = roundTrip(msg) as Message;
    const parsed = parseCall(back);
    expect(isInvokeError(parsed)).toBe(false);
    expect(parsed).toEqual({ ...call, payload: Buffer.from([0, 255, 1]) });
  });

  test("MessagePack carries the same call", () => {
    const parsed = parseCall(roundTrip(buildCallMessage(call), msgpackCodec) as Message);
    expect(parsed).toMatchObject({ functionName: "sayhi", qos: 1 });
  });

  test("malformed calls are answered with BadRequestError", () => {
    const msg = buildCallMessage(call);
    expect(parseCall({ ...msg, route: { ...msg.route, operation: "query" } })).toMatchObject({
      errorType: "BadRequestError",
    });
    expect(parseCall({ ...msg, content: { payload: "x" } })).toMatchObject({ errorType: "BadRequestError" });
    expect(parseCall({ ...msg, content: { functionName: "f", payload: 5 } })).toMatchObject({
      errorType: "BadRequestError",
    });
  });

  test("answers: payload or null, error fields; parentId is the call's id", () => {
    const msg = buildCallMessage(call);
    const ok = roundTrip(resultAnswer(msg, Buffer.from("hi")));
    expect(parseAnswer(ok)).toEqual({
      parentId: msg.header.id,
      outcome: { ok: true, payload: Buffer.from("hi") },
    });
    expect(parseAnswer(roundTrip(resultAnswer(msg, null)))?.outcome).toEqual({ ok: true, payload: null });
    const err = roundTrip(errorAnswer(msg, { errorType: "ValueError", errorMessage: "boom" })) as Message;
    expect(err.route.operation).toBe("error");
    expect(err.route.destination).toBe("function-manager");
    expect(parseAnswer(err)?.outcome).toEqual({ ok: false, errorType: "ValueError", errorMessage: "boom" });
    expect(parseAnswer({ not: "a message" })).toBeNull();
  });

  test("instance addresses: unix:// absolute or relative to the instance dir, bare paths, limits", () => {
    expect(socketPathOf("unix:///tmp/a.sock", "/w")).toBe("/tmp/a.sock");
    expect(socketPathOf("unix://run/a.sock", "/w")).toBe("/w/run/a.sock");
    expect(socketPathOf("run/a.sock", "/w")).toBe("/w/run/a.sock");
    expect(() => socketPathOf("tcp://127.0.0.1:1", "/w")).toThrow(/must be a unix:\/\/ socket path/);
    expect(() => socketPathOf(`unix:///${"x".repeat(120)}`, "/w")).toThrow(/longer than 107 bytes/);
  });
});
