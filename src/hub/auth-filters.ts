// Topic filter algebra for permissions and routes: validity of names and filters, whether a filter
// matches a topic, and whether a set of permit filters covers every topic another filter can match.

/** Why a topic filter is invalid, or undefined when it is valid ([MQTT-4.7.1-2], [MQTT-4.7.1-3]). */
export function filterProblem(filter: string): string | undefined {
  if (filter === "") return "must not be empty";
  if (filter.includes("\u0000")) return "must not contain NUL";
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] ?? "";
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1))
      return "'#' must be a whole level and the last one";
    if (level.includes("+") && level !== "+") return "'+' must be a whole level";
  }
  return undefined;
}

/** Why a topic name (no wildcards) is invalid, or undefined ([MQTT-3.3.2-2]). */
export function topicProblem(topic: string): string | undefined {
  if (topic === "") return "must not be empty";
  if (topic.includes("\u0000")) return "must not contain NUL";
  if (topic.includes("+") || topic.includes("#")) return "must not contain wildcards (+ or #)";
  return undefined;
}

/**
 * Whether `filter` matches `topic` per the spec: `+` one level, `#` this level and all below
 * (zero included); a leading wildcard does not match a `$` topic unless `dollar` says so.
 */
export function filterMatches(filter: string, topic: string, dollar = false): boolean {
  if (!dollar && topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === "#") return true;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

interface Cursor {
  levels: readonly string[];
  at: number;
}

/**
 * Whether every topic `filter` matches is matched by at least one of `permits` — so a permit covers a
 * topic name for publishing, and a subscription filter only when nothing outside it can arrive.
 * Permissions treat `$` topics like any other (a `#` permit grants them), so this ignores the `$` rule.
 */
export function filtersCover(permits: readonly string[], filter: string): boolean {
  const cursors = permits.map((p) => ({ levels: p.split("/"), at: 0 }));
  return covers(cursors, filter.split("/"), 0);
}

function covers(cursors: readonly Cursor[], filter: readonly string[], j: number): boolean {
  if (cursors.length === 0) return false;
  if (cursors.some((c) => c.levels[c.at] === "#")) return true;
  if (j === filter.length) return cursors.some((c) => c.at === c.levels.length);
  const level = filter[j];
  if (level === "#") {
    // `x/#` matches `x` itself and `x/<any>/...`: both must be covered (possibly by different permits)
    const here = filter.slice(0, j);
    return covers(cursors, here, j) && covers(cursors, [...here, "+", "#"], j);
  }
  const next: Cursor[] = [];
  for (const c of cursors) {
    if (c.at >= c.levels.length) continue;
    const p = c.levels[c.at];
    if (p === "+" || (level !== "+" && p === level)) next.push({ levels: c.levels, at: c.at + 1 });
  }
  return covers(next, filter, j + 1);
}
