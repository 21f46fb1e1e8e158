// service.yml keys that become the core's HubLimits: OpenEdge's `message` tree (length, ingress,
// egress, offset — what we use is mapped, the rest accepted with a warning) and our own `compat`,
// `max`, `clientid`, `topic` and `session` settings.

import type { MapReader } from "../config/index.ts";
import { DEFAULT_HUB_LIMITS, type HubLimits } from "./contracts.ts";

export type Compat = "mqtt" | "openedge";

/** The spec's largest remaining length; `message.length.max` is capped just below it. */
const MQTT_MAX_PACKET = 268_435_455;
const MAX_MESSAGE_SETTING = 256 * 1024 * 1024;

/** What `compat: openedge` changes: OpenEdge 0.1.x's topic and client id rules. */
const OPENEDGE_RULES: Partial<HubLimits> = {
  maxTopicLevels: 8,
  maxTopicBytes: 255,
  maxClientIdBytes: 128,
  clientIdPattern: /^[0-9A-Za-z_-]{0,128}$/,
};

const IGNORED = "accepted for OpenEdge compatibility and ignored";

/** Warns (without failing) about an OpenEdge key the hub accepts but does not use. */
function ignored(r: MapReader, key: string, why: string): void {
  if (r.has(key)) r.warn(key, `${IGNORED}: ${why}`);
}

interface MessageSettings {
  maxMessageBytes: number;
  retryIntervalMs?: number;
  inflight?: number;
  queued?: number;
  retentionMs?: number;
}

function readMessage(r: MapReader): MessageSettings {
  const length = r.object("length", (l) => l.size("max", "32k"));
  if (length > MAX_MESSAGE_SETTING) r.issues.error(`${r.pathOf("length")}.max`, "must be at most 256m");
  const out: MessageSettings = { maxMessageBytes: Math.max(1, Math.min(length, MQTT_MAX_PACKET)) };
  r.object("ingress", (ing) => {
    ing.object("qos0", (q) =>
      q.object("buffer", (b) => ignored(b, "size", "QoS 0 is never buffered on ingress")),
    );
    ing.object("qos1", (q) => {
      q.object("buffer", (b) => ignored(b, "size", "ingress is bounded by each client's socket"));
      q.object("batch", (b) => ignored(b, "max", "commits are batched per event-loop turn"));
      q.object("cleanup", (c) => {
        const retention = c.duration("retention", undefined);
        if (retention !== undefined) out.retentionMs = retention;
        ignored(c, "interval", "expired sessions are removed by deadline, not by polling");
      });
    });
    ignored(ing, "qos2", "QoS 2 follows the same persistence as QoS 1");
  });
  r.object("egress", (eg) => {
    eg.object("qos0", (q) =>
      q.object("buffer", (b) => {
        const size = b.int("size", undefined, { min: 1 });
        if (size !== undefined) out.queued = size;
      }),
    );
    eg.object("qos1", (q) => {
      q.object("buffer", (b) => {
        const size = b.int("size", undefined, { min: 1 });
        if (size !== undefined) out.inflight = size;
      });
      q.object("batch", (b) => ignored(b, "max", "deliveries are batched per event-loop turn"));
      q.object("retry", (rt) => {
        const interval = rt.duration("interval", undefined);
        if (interval !== undefined) out.retryIntervalMs = interval;
      });
    });
    ignored(eg, "qos2", "QoS 2 uses the QoS 1 window and retry interval");
  });
  ignored(r, "offset", "delivery offsets live in the session store");
  return out;
}

export interface LimitSettings {
  compat: Compat;
  limits: HubLimits;
}

/** The limits of a whole service.yml (`r` is the document's reader). */
export function readLimits(r: MapReader): LimitSettings {
  const compat = r.oneOf<Compat>("compat", ["mqtt", "openedge"], "mqtt");
  const base: HubLimits = { ...DEFAULT_HUB_LIMITS, ...(compat === "openedge" ? OPENEDGE_RULES : {}) };
  const message = r.object("message", readMessage);
  const max = r.object("max", (m) => ({
    connections: m.int("connections", base.maxConnections, { min: 0 }),
    inflight: m.int("inflight", message.inflight ?? base.maxInflight, { min: 1, max: 65_535 }),
    queued: m.int("queued", message.queued ?? base.maxQueued, { min: 1 }),
  }));
  const clientId = r.object("clientid", (c) => ({
    length: c.int("length", base.maxClientIdBytes, { min: 1, max: 65_535 }),
    pattern: c.string("pattern", { check: regexProblem }),
  }));
  const topic = r.object("topic", (t) => ({
    levels: t.int("levels", base.maxTopicLevels, { min: 0 }),
    length: t.int("length", base.maxTopicBytes, { min: 1, max: 65_535 }),
  }));
  // a numeric fallback would read as seconds: apply defaults after reading
  const sessionExpiryMs =
    r.object("session", (s) => s.duration("expiry", undefined)) ??
    message.retentionMs ??
    base.sessionExpiryMs;
  const limits: HubLimits = {
    maxMessageBytes: message.maxMessageBytes,
    maxTopicBytes: topic.length,
    maxTopicLevels: topic.levels,
    maxClientIdBytes: clientId.length,
    maxConnections: max.connections,
    maxInflight: max.inflight,
    maxQueued: max.queued,
    retryIntervalMs: message.retryIntervalMs ?? base.retryIntervalMs,
    sessionExpiryMs,
  };
  const pattern = clientId.pattern === undefined ? base.clientIdPattern : safeRegex(clientId.pattern);
  if (pattern !== undefined) limits.clientIdPattern = pattern;
  return { compat, limits };
}

function regexProblem(source: string): string | undefined {
  return safeRegex(source) === undefined ? "must be a valid regular expression" : undefined;
}

function safeRegex(source: string): RegExp | undefined {
  try {
    return new RegExp(source, "u");
  } catch {
    return undefined;
  }
}
