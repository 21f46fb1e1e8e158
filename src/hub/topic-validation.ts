// Topic name and topic filter rules (MQTT 3.1.1 section 4.7) plus the configurable limits from
// HubLimits; each returns the reason a string is refused, or null when it is valid.

import type { HubLimits } from "./contracts.ts";

export type TopicLimits = Pick<HubLimits, "maxTopicBytes" | "maxTopicLevels">;

const encoder = new TextEncoder();

function byteLength(s: string): number {
  // ASCII fast path: one byte per code unit unless a code unit is above 0x7f.
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return encoder.encode(s).length;
  return s.length;
}

function commonChecks(s: string, limits: TopicLimits): string | null {
  if (s.length === 0) return "empty"; // [MQTT-4.7.3-1]
  if (s.includes("\u0000")) return "contains NUL"; // [MQTT-4.7.3-2]
  if (byteLength(s) > limits.maxTopicBytes) return "too long";
  if (limits.maxTopicLevels > 0) {
    let levels = 1;
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 0x2f) levels++;
    if (levels > limits.maxTopicLevels) return "too many levels";
  }
  return null;
}

/** A topic a PUBLISH may carry: no wildcards [MQTT-3.3.2-2]. */
export function topicNameError(topic: string, limits: TopicLimits): string | null {
  const common = commonChecks(topic, limits);
  if (common !== null) return common;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === 0x23 || c === 0x2b) return "wildcard in topic name";
  }
  return null;
}

/** A filter a SUBSCRIBE may carry: `#` alone and last, `+` alone in its level [MQTT-4.7.1-2/3]. */
export function topicFilterError(filter: string, limits: TopicLimits): string | null {
  const common = commonChecks(filter, limits);
  if (common !== null) return common;
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) return "misplaced #"; // [MQTT-4.7.1-2]
    if (level.includes("+") && level !== "+") return "misplaced +"; // [MQTT-4.7.1-3]
  }
  return null;
}

export function isValidTopicName(topic: string, limits: TopicLimits): boolean {
  return topicNameError(topic, limits) === null;
}

export function isValidTopicFilter(filter: string, limits: TopicLimits): boolean {
  return topicFilterError(filter, limits) === null;
}

/** Whether `filter` matches `topic` (both valid); `$` topics escape leading wildcards [MQTT-4.7.2-1]. */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === "#") return true; // also matches the parent level [MQTT-4.7.1-2]
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}
