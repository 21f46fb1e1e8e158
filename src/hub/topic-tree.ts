// Subscriptions by topic filter in a trie keyed by level; matching walks the topic's levels once
// (no regex per message) and merges overlapping subscriptions to one entry per subscriber.

interface Node<S> {
  children: Map<string, Node<S>>;
  subs: Map<S, number> | null;
}

function node<S>(): Node<S> {
  return { children: new Map(), subs: null };
}

/** Subscriber → highest granted QoS among its matching filters. */
export type MatchResult<S> = Map<S, number>;

export class TopicTree<S> {
  private readonly root: Node<S> = node();
  private count = 0;
  /** Bumped on every change, so callers can cache match results per topic. */
  generation = 0;

  get size(): number {
    return this.count;
  }

  /** Adds or replaces `subscriber`'s subscription to `filter`; returns whether it was new. */
  add(filter: string, subscriber: S, qos: number): boolean {
    let n = this.root;
    for (const level of filter.split("/")) {
      let child = n.children.get(level);
      if (child === undefined) {
        child = node();
        n.children.set(level, child);
      }
      n = child;
    }
    n.subs ??= new Map();
    const isNew = !n.subs.has(subscriber);
    n.subs.set(subscriber, qos);
    if (isNew) this.count++;
    this.generation++;
    return isNew;
  }

  /** Removes one subscription; prunes emptied branches. Returns whether it existed. */
  remove(filter: string, subscriber: S): boolean {
    const path: Node<S>[] = [this.root];
    const levels = filter.split("/");
    let n = this.root;
    for (const level of levels) {
      const child = n.children.get(level);
      if (child === undefined) return false;
      path.push(child);
      n = child;
    }
    if (n.subs === null || !n.subs.delete(subscriber)) return false;
    if (n.subs.size === 0) n.subs = null;
    this.count--;
    this.generation++;
    for (let i = levels.length; i > 0; i--) {
      const child = path[i] as Node<S>;
      if (child.subs !== null || child.children.size > 0) break;
      (path[i - 1] as Node<S>).children.delete(levels[i - 1] as string);
    }
    return true;
  }

  /** Every subscriber whose filter matches `topic`, once, with its highest QoS. */
  match(topic: string): MatchResult<S> {
    const out: MatchResult<S> = new Map();
    const levels = topic.split("/");
    // [MQTT-4.7.2-1] a topic starting with `$` is not matched by a filter starting with a wildcard.
    this.walk(this.root, levels, 0, topic.charCodeAt(0) === 0x24, out);
    return out;
  }

  /** Whether any filter in the tree begins with `prefix` as its first level (e.g. `$SYS`). */
  hasRoot(level: string): boolean {
    return this.root.children.has(level);
  }

  private walk(n: Node<S>, levels: string[], i: number, dollar: boolean, out: MatchResult<S>): void {
    const wildOk = !(dollar && i === 0);
    if (wildOk) {
      const hash = n.children.get("#");
      if (hash !== undefined) merge(hash.subs, out); // `a/#` matches `a` and everything below
    }
    if (i === levels.length) {
      merge(n.subs, out);
      return;
    }
    const exact = n.children.get(levels[i] as string);
    if (exact !== undefined) this.walk(exact, levels, i + 1, dollar, out);
    if (wildOk) {
      const plus = n.children.get("+");
      if (plus !== undefined) this.walk(plus, levels, i + 1, dollar, out);
    }
  }
}

function merge<S>(subs: Map<S, number> | null, out: MatchResult<S>): void {
  if (subs === null) return;
  for (const [s, qos] of subs) {
    const prev = out.get(s);
    if (prev === undefined || qos > prev) out.set(s, qos);
  }
}
