// A rule on a real hub (in-process clients, FakeClock): outputs at min(input, publish) QoS, nothing
// for empty results, OpenEdge's error object after retry.max failed attempts, QoS 1 inputs
// acknowledged only after the output is published (redelivered until then), bounded in-flight calls,
// per-topic order; and the in-process client's deferred acknowledgement itself.

import { afterEach, expect, test } from "bun:test";
import type { CallOutcome, InvokeCall, RuleConfig } from "../../../src/function/index.ts";
import { RuleRunner } from "../../../src/function/index.ts";
import { DEFAULT_HUB_LIMITS } from "../../../src/hub/contracts.ts";
import { Hub } from "../../../src/hub/hub.ts";
import type { InprocMessage } from "../../../src/hub/inproc-client.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { OpenEdgeError } from "../../../src/lib/errors.ts";
import { silentLogger } from "../../../src/log/index.ts";
import { testAuthenticator, tick } from "../hub/helpers.ts";

let hub: Hub;
afterEach(() => hub?.close());

interface Held {
  call: InvokeCall;
  resolve(outcome: CallOutcome): void;
  reject(error: Error): void;
}

async function setup(rule: Partial<RuleConfig> = {}, limit = 10) {
  const clock = new FakeClock(1_000);
  hub = new Hub({
    authenticator: testAuthenticator,
    limits: { ...DEFAULT_HUB_LIMITS, retryIntervalMs: 1000 },
    routes: [],
    clock,
  });
  await hub.start();
  const calls: Held[] = [];
  const runner = new RuleRunner(
    {
      clientid: "rule",
      subscribe: { topic: "in/#", qos: 1 },
      function: { name: "f" },
      publish: { topic: "out", qos: 1 },
      retry: { max: 2 },
      ordered: false,
      ...rule,
    },
    {
      name: "f",
      service: "fn",
      instance: { min: 0, max: 1, idletimeMs: 1 },
      messageMaxBytes: 8,
      timeoutMs: 1,
    },
    {
      client: hub.client({ clientId: "rule" }),
      invoke: (call) => new Promise((resolve, reject) => calls.push({ call, resolve, reject })),
      limit,
      clock,
      log: silentLogger,
    },
  );
  runner.start();
  const outputs: InprocMessage[] = [];
  const observer = hub.client({ clientId: "observer" });
  observer.subscribe("out", 1, (m) => void outputs.push(m));
  const publisher = hub.client({ clientId: "publisher" });
  const settle = async () => {
    for (let i = 0; i < 5; i++) await tick();
  };
  return { clock, runner, calls, outputs, publisher, settle };
}

const text = (m: InprocMessage | undefined) => new TextDecoder().decode(m?.payload);
const ok = (s: string): CallOutcome => ({ ok: true, payload: new TextEncoder().encode(s) });

test("the output goes to publish.topic at min(input QoS, publish.qos); an empty result publishes nothing", async () => {
  const s = await setup({ publish: { topic: "out", qos: 0 } });
  await s.publisher.publish("in/a", "x", { qos: 1 });
  await s.publisher.publish("in/b", "y", { qos: 1 });
  await s.settle();
  expect(s.calls.map((c) => [c.call.topic, c.call.qos, c.call.functionName])).toEqual([
    ["in/a", 1, "f"],
    ["in/b", 1, "f"],
  ]);
  s.calls[0]?.resolve(ok("X"));
  s.calls[1]?.resolve({ ok: true, payload: null });
  await s.settle();
  expect(s.outputs.map((m) => [text(m), m.qos])).toEqual([["X", 0]]);
});

test("a QoS 1 input is redelivered until its output is published, then acknowledged", async () => {
  const s = await setup();
  await s.publisher.publish("in/a", "x", { qos: 1 });
  await s.settle();
  expect(s.calls).toHaveLength(1);
  await s.clock.advance(1000); // not acknowledged: the hub resends it
  await s.settle();
  expect(s.calls).toHaveLength(2);
  for (const c of s.calls) c.resolve(ok("done"));
  await s.settle();
  await s.clock.advance(5000);
  await s.settle();
  expect(s.calls).toHaveLength(2);
  expect(s.outputs.map(text)).toEqual(["done", "done"]);
});

test("a call that cannot run is tried retry.max times, then OpenEdge's error object is published", async () => {
  const s = await setup();
  await s.publisher.publish("in/a", "hi", { qos: 1 });
  await s.settle();
  s.calls[0]?.reject(new OpenEdgeError("ERR_CLOSED", "instance went away"));
  await s.settle();
  s.calls[1]?.reject(new OpenEdgeError("ERR_TIMEOUT", "instance hung"));
  await s.settle();
  expect(s.calls).toHaveLength(2);
  const body = JSON.parse(text(s.outputs[0])) as Record<string, unknown>;
  expect(body.errorType).toBe("TimeoutError");
  expect(body.errorMessage).toBe("instance hung");
  expect(body.functionMessage).toEqual({
    ID: 0,
    QOS: 1,
    Topic: "in/a",
    Payload: Buffer.from("hi").toString("base64"),
    Timestamp: 1_000,
    FunctionName: "f",
    FunctionInvokeID: s.calls[0]?.call.functionInvokeId,
  });
});

test("a handler's error is published once, without retrying; an input over message.length.max too", async () => {
  const s = await setup();
  await s.publisher.publish("in/a", "x", { qos: 0 });
  await s.publisher.publish("in/big", "123456789", { qos: 0 });
  await s.settle();
  s.calls[0]?.resolve({ ok: false, errorType: "ValueError", errorMessage: "boom" });
  await s.settle();
  expect(s.calls).toHaveLength(1);
  const bodies = s.outputs.map((m) => JSON.parse(text(m)) as { errorType: string });
  expect(bodies.map((b) => b.errorType).sort()).toEqual(["MessageTooLargeError", "ValueError"]);
});

test("at most `limit` calls in flight: the subscription waits, nothing is dropped", async () => {
  const s = await setup({}, 2);
  for (let i = 0; i < 5; i++) await s.publisher.publish(`in/${i}`, `${i}`, { qos: 1 });
  await s.settle();
  expect(s.calls).toHaveLength(2);
  expect(s.runner.stats().inflight).toBe(2);
  for (let done = 0; done < 5; done++) {
    s.calls[done]?.resolve(ok(`r${done}`));
    await s.settle();
  }
  expect(s.calls).toHaveLength(5);
  expect(s.outputs.map(text)).toEqual(["r0", "r1", "r2", "r3", "r4"]);
});

test("ordered: one call at a time per topic, other topics run alongside", async () => {
  const s = await setup({ ordered: true });
  await s.publisher.publish("in/a", "a1", { qos: 1 });
  await s.publisher.publish("in/a", "a2", { qos: 1 });
  await s.publisher.publish("in/b", "b1", { qos: 1 });
  await s.settle();
  const inputs = () => s.calls.map((c) => new TextDecoder().decode(c.call.payload));
  expect(inputs()).toEqual(["a1", "b1"]);
  s.calls[0]?.resolve(ok("A1"));
  await s.settle();
  expect(inputs()).toEqual(["a1", "b1", "a2"]);
});

test("in-process client: a deferred ack lets the next message through; a rejected one is redelivered", async () => {
  const s = await setup();
  const c = hub.client({ clientId: "deferring" });
  const seen: string[] = [];
  const acks: { resolve(): void; reject(e: Error): void }[] = [];
  c.subscribe("d", 1, (m) => {
    seen.push(new TextDecoder().decode(m.payload));
    return { ack: new Promise<void>((resolve, reject) => acks.push({ resolve, reject })) };
  });
  await s.publisher.publish("d", "1", { qos: 1 });
  await s.publisher.publish("d", "2", { qos: 1 });
  await s.settle();
  expect(seen).toEqual(["1", "2"]); // both delivered before either is acknowledged
  acks[0]?.resolve();
  acks[1]?.reject(new Error("not done"));
  await s.settle();
  await s.clock.advance(1000);
  await s.settle();
  expect(seen).toEqual(["1", "2", "2"]);
  c.close();
});

test("a persistent rule session keeps its filter; one an earlier configuration subscribed is dropped", async () => {
  const s = await setup();
  // the same client id came back from storage with an old subscription besides the current one
  const client = hub.client({ clientId: "rule-p", clean: false });
  client.subscribe("old/#", 1, () => {});
  client.subscribe("in/#", 1, () => {});
  const runner = new RuleRunner(
    {
      clientid: "rule-p",
      subscribe: { topic: "in/#", qos: 1 },
      function: { name: "f" },
      publish: { topic: "out", qos: 1 },
      retry: { max: 1 },
      ordered: false,
    },
    {
      name: "f",
      service: "fn",
      instance: { min: 0, max: 1, idletimeMs: 1 },
      messageMaxBytes: 8,
      timeoutMs: 1,
    },
    { client, invoke: async () => ok("r"), limit: 1, clock: s.clock, log: silentLogger },
  );
  runner.start();
  expect(client.filters()).toEqual(["in/#"]);
  await s.publisher.publish("old/x", "x", { qos: 1 });
  await s.settle();
  expect(s.outputs.map(text)).toEqual([]);
});
