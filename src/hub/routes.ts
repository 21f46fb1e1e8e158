// Topic rewrite routes (`subscriptions: [{source, target}]`): a message published on a topic the
// source filter matches is republished on the target topic. Validated at load: valid filters, a plain
// target, no duplicates and no cycles (a republished message must never come back to its route).

import { filterMatches, filterProblem, topicProblem } from "./auth-filters.ts";

export interface RouteEnd {
  topic: string;
  qos: 0 | 1 | 2;
}

export interface Route {
  source: RouteEnd;
  target: RouteEnd;
}

export interface RouteIssue {
  /** Relative to the list: `[1].target.topic`. */
  path: string;
  message: string;
}

/** Every problem of a route list; the caller prefixes paths with the list's own path. */
export function routeIssues(routes: readonly Route[]): RouteIssue[] {
  const issues: RouteIssue[] = [];
  const valid: boolean[] = routes.map((r, i) => {
    const source = filterProblem(r.source.topic);
    const target = topicProblem(r.target.topic);
    if (source) issues.push({ path: `[${i}].source.topic`, message: source });
    if (target) issues.push({ path: `[${i}].target.topic`, message: target });
    return source === undefined && target === undefined;
  });
  const seen = new Map<string, number>();
  routes.forEach((r, i) => {
    const key = `${r.source.topic}\u0000${r.target.topic}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else issues.push({ path: `[${i}]`, message: `duplicates subscriptions[${first}]` });
  });
  for (const cycle of findCycles(routes, valid)) {
    const first = cycle[0] ?? 0;
    const chain = [...cycle, first].map((i) => `subscriptions[${i}]`).join(" → ");
    issues.push({ path: `[${first}].target.topic`, message: `forms a cycle: ${chain}` });
  }
  return issues;
}

/**
 * Route i feeds route k when i's target topic is matched by k's source filter. Returns each cycle
 * once (as the list of route indexes, starting at its lowest index).
 */
function findCycles(routes: readonly Route[], valid: readonly boolean[]): number[][] {
  const feeds = routes.map((r, i) =>
    valid[i]
      ? routes.flatMap((k, j) => (valid[j] && filterMatches(k.source.topic, r.target.topic) ? [j] : []))
      : [],
  );
  const cycles: number[][] = [];
  const reported = new Set<number>();
  for (let start = 0; start < routes.length; start++) {
    if (reported.has(start)) continue;
    const path = pathBack(start, feeds);
    if (path === undefined) continue;
    // report each route of the cycle once: the cycle through `start` covers all its members
    for (const i of path) reported.add(i);
    cycles.push(path);
  }
  return cycles;
}

/** A path of routes from `start` back to `start` (breadth first: the shortest), or undefined. */
function pathBack(start: number, feeds: readonly number[][]): number[] | undefined {
  const parent = new Map<number, number>();
  const queue: number[] = [start];
  while (queue.length > 0) {
    const node = queue.shift() ?? start;
    for (const next of feeds[node] ?? []) {
      if (next === start) {
        const path = [node];
        for (let at = node; at !== start; ) {
          at = parent.get(at) ?? start;
          path.unshift(at);
        }
        return path[0] === start ? path : [start, ...path];
      }
      if (parent.has(next)) continue;
      parent.set(next, node);
      queue.push(next);
    }
  }
  return undefined;
}
