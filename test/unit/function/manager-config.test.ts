// The function manager's service.yml: OpenEdge keys with defaults, and every cross-reference problem a
// config error that names the field.

import { expect, test } from "bun:test";
import { ConfigError } from "../../../src/config/index.ts";
import { parseManagerConfig } from "../../../src/function/index.ts";
import { DEFAULT_BUSY_POLL_MS } from "../../../src/lib/busy-poll.ts";

const parse = (text: string, services = ["fn-py"]) =>
  parseManagerConfig(text, { env: {}, file: "service.yml", services });

function errors(text: string, services?: string[]): string {
  try {
    parse(text, services);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("no config error");
}

const RULE = (clientid: string, fn: string) => `
  - clientid: ${clientid}
    subscribe: {topic: t, qos: 1}
    function: {name: ${fn}}
    publish: {topic: t/out}`;

test("OpenEdge keys with defaults: qos 0, retry 3, min 0 / max 1, timeout 30s, message 4m", () => {
  const { value } = parse(`
hub: {address: "tcp://127.0.0.1:1883", username: test, password: hahaha}
rules:${RULE("r1", "sayhi")}
functions:
  - name: sayhi
    service: fn-py
`);
  expect(value.hub).toEqual({ address: "tcp://127.0.0.1:1883", username: "test", password: "hahaha" });
  expect(value.rules[0]).toEqual({
    clientid: "r1",
    subscribe: { topic: "t", qos: 1 },
    function: { name: "sayhi" },
    publish: { topic: "t/out", qos: 0 },
    retry: { max: 3 },
    ordered: false,
  });
  expect(value.functions[0]).toEqual({
    name: "sayhi",
    service: "fn-py",
    instance: { min: 0, max: 1, idletimeMs: 600_000 },
    messageMaxBytes: 4 * 1024 * 1024,
    timeoutMs: 30_000,
  });
});

test("OpenEdge 0.1.x's instance.timeout is the call timeout; timeout beside it wins", () => {
  const { value } = parse(`
functions:
  - {name: a, service: fn-py, instance: {min: 1, max: 4, idletime: 1m, evicttime: 5s, timeout: 10s}, message: {length: {max: 1k}}}
  - {name: b, service: fn-py, instance: {timeout: 10s}, timeout: 2s}
`);
  expect(value.functions[0]?.instance).toEqual({ min: 1, max: 4, idletimeMs: 60_000, evicttimeMs: 5_000 });
  expect(value.functions[0]?.timeoutMs).toBe(10_000);
  expect(value.functions[0]?.messageMaxBytes).toBe(1024);
  expect(value.functions[1]?.timeoutMs).toBe(2_000);
});

test("a rule naming an unknown function is an error at rules[i].function.name", () => {
  expect(errors(`rules:${RULE("r1", "nope")}\nfunctions: [{name: a, service: fn-py}]`)).toContain(
    'rules[0].function.name: unknown function "nope"',
  );
});

test("duplicate client ids are an error at the second rule's clientid", () => {
  const text = `rules:${RULE("r1", "a")}${RULE("r1", "a")}\nfunctions: [{name: a, service: fn-py}]`;
  expect(errors(text)).toContain('rules[1].clientid: duplicate client id "r1"');
});

test("a function whose service is not in the application is an error at functions[i].service", () => {
  expect(errors("functions: [{name: a, service: fn-js}]")).toContain(
    'functions[0].service: service "fn-js" is not in the application',
  );
});

test("min above max, QoS 2 and a missing publish topic are errors naming the field", () => {
  const message = errors(`
rules:
  - clientid: r1
    subscribe: {topic: t, qos: 2}
    function: {name: a}
functions: [{name: a, service: fn-py, instance: {min: 3, max: 2}}]
`);
  expect(message).toContain("functions[0].instance.min");
  expect(message).toContain("rules[0].subscribe.qos");
  expect(message).toContain("rules[0].publish.topic");
});

test("busypoll: 200us by default where there is more than one CPU, a duration up to 10ms", () => {
  const text = `rules:${RULE("r1", "f")}\nfunctions:\n  - {name: f, service: fn-py}\n`;
  expect(parse(text).value.busyPollMs).toBe(DEFAULT_BUSY_POLL_MS);
  expect(parse(`${text}busypoll: 150us\n`).value.busyPollMs).toBeCloseTo(0.15, 9);
  expect(errors(`${text}busypoll: 1m\n`)).toContain("busypoll: must be at most 10ms");
});
