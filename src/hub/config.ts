// The hub's service.yml (OpenEdge's keys plus ours), read once into a HubConfig with resolved limits;
// errors name the YAML path, unknown keys warn. Paths in `certificate` are relative to the file's folder.

import { dirname, isAbsolute, resolve } from "node:path";
import { type EnvMap, type MapReader, parseConfigText, readConfigFile } from "../config/index.ts";
import { readBusyPoll } from "../lib/busy-poll.ts";
import { type Compat, readLimits } from "./config-limits.ts";
import { type ListenerConfig, parseListenUrl } from "./config-listen.ts";
import { type PrincipalConfig, readPrincipals } from "./config-principals.ts";
import type { HubLimits } from "./contracts.ts";
import { type Route, routeIssues } from "./routes.ts";

export interface CertificateConfig {
  /** Absolute paths. `ca` makes TLS listeners ask for and verify client certificates. */
  ca?: string;
  cert?: string;
  key?: string;
}

export interface HubConfig {
  /** OpenEdge's informational `name`. */
  name?: string;
  compat: Compat;
  listen: ListenerConfig[];
  certificate: CertificateConfig;
  principals: PrincipalConfig[];
  /** Admit clients without credentials with every permission (development only). */
  anonymous: boolean;
  subscriptions: Route[];
  limits: HubLimits;
  /** As written; relative paths resolve against the data mount (in-process) or the work dir. */
  storage: {
    dir: string;
    /** SQLite `synchronous`: `full` survives power loss, `normal` (WAL) survives process crashes. */
    synchronous?: "normal" | "full";
  };
  shutdown: { timeoutMs: number };
  metrics: { report: { intervalMs: number } };
  /** How long the hub keeps polling for traffic after a burst before it sleeps (0: it sleeps at once). */
  busyPollMs: number;
}

export const DEFAULT_STORAGE_DIR = "var/db/openedge/data";

export interface HubConfigOptions {
  env: EnvMap;
  /** Names the file in errors and anchors relative certificate paths; "service.yml" when absent. */
  file?: string;
}

export function parseHubConfig(
  text: string,
  options: HubConfigOptions,
): { config: HubConfig; warnings: string[] } {
  const file = options.file ?? "service.yml";
  const baseDir = dirname(resolve(file));
  const { value, warnings } = parseConfigText(text, { env: options.env, file }, (r) =>
    readHubConfig(r, baseDir),
  );
  return { config: value, warnings };
}

/** service.yml from disk (a missing file gives the defaults: no listeners, nobody admitted). */
export function loadHubConfig(file: string, env: EnvMap): { config: HubConfig; warnings: string[] } {
  return parseHubConfig(readConfigFile(file), { env, file });
}

export function readHubConfig(r: MapReader, baseDir: string): HubConfig {
  const name = r.string("name");
  const { compat, limits } = readLimits(r);
  const listenIndex: number[] = [];
  const listen = r.list("listen", (node, path, index) => {
    const text = node.kind === "scalar" && typeof node.value === "string" ? node.value : undefined;
    if (text === undefined) return void r.issues.error(path, "must be a URL string", node.line);
    const parsed = parseListenUrl(text);
    if ("problem" in parsed) return void r.issues.error(path, parsed.problem, node.line);
    listenIndex.push(index);
    return parsed;
  });
  const certificate = r.object("certificate", (c) => {
    const out: CertificateConfig = {};
    for (const key of ["ca", "cert", "key"] as const) {
      const value = c.string(key);
      if (value !== undefined && value !== "") out[key] = isAbsolute(value) ? value : resolve(baseDir, value);
    }
    // OpenEdge's `name` (server name to verify) and `insecure` belong to its clients, not its hub
    c.allow("name", "insecure");
    return out;
  });
  const lineOf = (i: number) => r.list("listen", (node) => node.line)[i];
  listen.forEach((l, k) => {
    const i = listenIndex[k] ?? k;
    if (
      (l.kind === "ssl" || l.kind === "wss") &&
      (certificate.cert === undefined || certificate.key === undefined)
    )
      r.issues.error(
        `listen[${i}]`,
        `${l.kind} listeners need certificate.cert and certificate.key`,
        lineOf(i),
      );
  });
  const seenUrls = new Map<string, number>();
  listen.forEach((l, k) => {
    const i = listenIndex[k] ?? k;
    const first = seenUrls.get(`${l.host}:${l.port}`);
    if (l.port !== 0 && first !== undefined)
      r.issues.error(`listen[${i}]`, `uses the address of listen[${first}]`, lineOf(i));
    else seenUrls.set(`${l.host}:${l.port}`, i);
  });
  const principals = readPrincipals(r);
  const anonymous = r.bool("anonymous", false);
  const subscriptions = r.objects("subscriptions", (s) => ({
    source: s.object("source", readRouteEnd),
    target: s.object("target", readRouteEnd),
  }));
  const lines = r.list("subscriptions", (node) => node.line ?? 0);
  for (const issue of routeIssues(subscriptions)) {
    const path = `subscriptions${issue.path}`;
    const line = lines[Number(/^\[(\d+)\]/.exec(issue.path)?.[1])];
    // an empty topic was already reported as required
    if (!r.issues.errors.some((e) => e.path === path)) r.issues.error(path, issue.message, line || undefined);
  }
  const storage = r.object("storage", (s) => {
    const out: HubConfig["storage"] = { dir: s.string("dir", { default: DEFAULT_STORAGE_DIR }) };
    if (s.has("synchronous")) out.synchronous = s.oneOf("synchronous", ["normal", "full"] as const, "full");
    return out;
  });
  const shutdown = r.object("shutdown", (s) => ({ timeoutMs: s.duration("timeout", "10s") }));
  const metrics = r.object("metrics", (m) => ({
    report: m.object("report", (rep) => ({ intervalMs: rep.duration("interval", "10s") })),
  }));
  const busyPollMs = readBusyPoll(r);
  if (r.has("logger")) r.warn("logger", "accepted and ignored: the hub logs to the master's log");
  if (r.has("status")) r.warn("status", "accepted and ignored: statistics go to inspect, /metrics and $SYS");
  const config: HubConfig = {
    compat,
    listen,
    certificate,
    principals,
    anonymous,
    subscriptions,
    limits,
    storage,
    shutdown,
    metrics,
    busyPollMs,
  };
  if (name !== undefined) config.name = name;
  return config;
}

function readRouteEnd(r: MapReader): { topic: string; qos: 0 | 1 | 2 } {
  return {
    topic: r.string("topic", { required: true }),
    qos: r.int("qos", 0, { min: 0, max: 2 }) as 0 | 1 | 2,
  };
}
