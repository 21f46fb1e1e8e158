// The function manager's service.yml (OpenEdge keys): `hub`, `rules` and `functions`, with defaults,
// and the cross-checks (a rule's function exists, client ids are unique, a function's service is in
// the application) reported as config errors naming the field.

import { type EnvMap, type MapReader, type Parsed, parseConfigText } from "../config/index.ts";
import { readBusyPoll } from "../lib/busy-poll.ts";
import { DEFAULT_FUNCTION_TIMEOUT_MS } from "./runtime-config.ts";

export interface HubAddress {
  address?: string;
  username?: string;
  password?: string;
}

export interface RuleConfig {
  clientid: string;
  subscribe: { topic: string; qos: 0 | 1 };
  function: { name: string };
  publish: { topic: string; qos: 0 | 1 };
  /** Attempts per message when the call itself fails (an instance crashed, hung or could not start). */
  retry: { max: number };
  /** Messages of one topic are handled one after another, their outputs in input order. */
  ordered: boolean;
}

export interface ManagedFunction {
  name: string;
  service: string;
  instance: { min: number; max: number; idletimeMs: number; evicttimeMs?: number };
  /** Largest input payload passed to the function; larger ones publish an error. */
  messageMaxBytes: number;
  timeoutMs: number;
}

export interface ManagerConfig {
  hub: HubAddress;
  rules: RuleConfig[];
  functions: ManagedFunction[];
  /** `busypoll`: after a call or an answer, poll up to this long (ms; see BusyPoller; 0: off). */
  busyPollMs: number;
}

export const DEFAULT_RETRY_MAX = 3;
export const DEFAULT_IDLE_TIME = "10m";
export const DEFAULT_MESSAGE_MAX = "4m";

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const CLIENT_ID = /^[a-zA-Z0-9_.-]{1,128}$/;

function readQos(r: MapReader): 0 | 1 {
  return r.int("qos", 0, { min: 0, max: 1 }) === 1 ? 1 : 0;
}

function readRule(r: MapReader): RuleConfig {
  const clientid = r.string("clientid", { required: true, pattern: CLIENT_ID });
  const subscribe = r.object("subscribe", (s) => ({
    topic: s.string("topic", { required: true }),
    qos: readQos(s),
  }));
  const fn = r.object("function", (f) => ({ name: f.string("name", { required: true }) }));
  const publish = r.object("publish", (p) => ({
    topic: p.string("topic", { required: true }),
    qos: readQos(p),
  }));
  const retry = r.object("retry", (t) => ({ max: t.int("max", DEFAULT_RETRY_MAX, { min: 1 }) }));
  const ordered = r.bool("ordered", false);
  return { clientid, subscribe, function: fn, publish, retry, ordered };
}

function readFunction(r: MapReader): ManagedFunction {
  const name = r.string("name", { required: true, pattern: NAME });
  const service = r.string("service", { required: true, pattern: NAME });
  // OpenEdge 0.1.x kept the runtime's own keys here too; they belong to the runtime's service.yml
  r.allow("runtime", "handler", "codedir", "entry", "env");
  let instanceTimeout: number | undefined;
  const instance = r.object("instance", (i) => {
    const min = i.int("min", 0, { min: 0, max: 100 });
    const max = i.int("max", 1, { min: 1, max: 100 });
    if (min > max) i.error("min", `must not exceed instance.max (${max})`);
    const idletimeMs = i.duration("idletime", DEFAULT_IDLE_TIME);
    const evicttimeMs = i.duration("evicttime", undefined);
    instanceTimeout = i.duration("timeout", undefined); // OpenEdge 0.1.x's place for it
    return evicttimeMs === undefined || evicttimeMs <= 0
      ? { min, max, idletimeMs }
      : { min, max, idletimeMs, evicttimeMs };
  });
  const messageMaxBytes = r.object("message", (m) =>
    m.object("length", (l) => l.size("max", DEFAULT_MESSAGE_MAX)),
  );
  // a number fallback would read as seconds: pick among milliseconds here
  const timeoutMs = r.duration("timeout", undefined) ?? instanceTimeout ?? DEFAULT_FUNCTION_TIMEOUT_MS;
  return {
    name,
    service,
    instance,
    messageMaxBytes,
    timeoutMs: timeoutMs > 0 ? timeoutMs : DEFAULT_FUNCTION_TIMEOUT_MS,
  };
}

/** Reads the document; `services` are the application's service names (for `functions[].service`). */
export function readManagerConfig(r: MapReader, services: readonly string[]): ManagerConfig {
  r.allow("name", "logger");
  const hub = r.object("hub", (h) => {
    h.allow("ca", "cert", "key", "insecure", "timeout", "interval", "keepalive", "cleansession");
    const out: HubAddress = {};
    const address = h.string("address");
    const username = h.string("username");
    const password = h.string("password");
    if (address !== undefined) out.address = address;
    if (username !== undefined) out.username = username;
    if (password !== undefined) out.password = password;
    return out;
  });
  const functions = r.objects("functions", (f) => readFunction(f));
  const rules = r.objects("rules", (x) => readRule(x));
  crossCheck(r, rules, functions, services);
  return { hub, rules, functions, busyPollMs: readBusyPoll(r) };
}

function crossCheck(
  r: MapReader,
  rules: readonly RuleConfig[],
  functions: readonly ManagedFunction[],
  services: readonly string[],
): void {
  const names = new Set<string>();
  functions.forEach((f, i) => {
    if (names.has(f.name)) r.issues.error(`functions[${i}].name`, `duplicate function name "${f.name}"`);
    names.add(f.name);
    if (f.service !== "" && !services.includes(f.service))
      r.issues.error(`functions[${i}].service`, `service "${f.service}" is not in the application`);
  });
  const clients = new Set<string>();
  rules.forEach((rule, i) => {
    if (clients.has(rule.clientid))
      r.issues.error(`rules[${i}].clientid`, `duplicate client id "${rule.clientid}"`);
    clients.add(rule.clientid);
    if (rule.function.name !== "" && !names.has(rule.function.name))
      r.issues.error(
        `rules[${i}].function.name`,
        `unknown function "${rule.function.name}" (not in functions)`,
      );
  });
}

export function parseManagerConfig(
  text: string,
  options: { env: EnvMap; file: string; services: readonly string[] },
): Parsed<ManagerConfig> {
  return parseConfigText(text, { env: options.env, file: options.file }, (r) =>
    readManagerConfig(r, options.services),
  );
}
