// Retained messages by topic in a level trie, so a new subscription finds the topics its filter
// matches without scanning every retained message.

import type { StoredMessage } from "./contracts.ts";

interface Node {
  children: Map<string, Node>;
  msg: StoredMessage | null;
}

function node(): Node {
  return { children: new Map(), msg: null };
}

export class RetainTree {
  private readonly root = node();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(topic: string): StoredMessage | undefined {
    let n: Node | undefined = this.root;
    for (const level of topic.split("/")) {
      n = n.children.get(level);
      if (n === undefined) return undefined;
    }
    return n.msg ?? undefined;
  }

  /** Stores, replaces or (with null) clears the retained message of a topic. */
  set(topic: string, msg: StoredMessage | null): void {
    const levels = topic.split("/");
    const path: Node[] = [this.root];
    let n = this.root;
    for (const level of levels) {
      let child = n.children.get(level);
      if (child === undefined) {
        if (msg === null) return;
        child = node();
        n.children.set(level, child);
      }
      path.push(child);
      n = child;
    }
    if (msg !== null) {
      if (n.msg === null) this.count++;
      n.msg = msg;
      return;
    }
    if (n.msg === null) return;
    n.msg = null;
    this.count--;
    for (let i = levels.length; i > 0; i--) {
      const child = path[i] as Node;
      if (child.msg !== null || child.children.size > 0) break;
      (path[i - 1] as Node).children.delete(levels[i - 1] as string);
    }
  }

  /** Retained messages whose topic matches `filter`; `$` topics escape leading wildcards [MQTT-4.7.2-1]. */
  match(filter: string): StoredMessage[] {
    const out: StoredMessage[] = [];
    this.walk(this.root, filter.split("/"), 0, out);
    return out;
  }

  *all(): Generator<StoredMessage> {
    const stack: Node[] = [this.root];
    for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
      if (n.msg !== null) yield n.msg;
      for (const c of n.children.values()) stack.push(c);
    }
  }

  private walk(n: Node, f: string[], i: number, out: StoredMessage[]): void {
    if (i === f.length) {
      if (n.msg !== null) out.push(n.msg);
      return;
    }
    const level = f[i] as string;
    if (level === "#") {
      if (n.msg !== null && i > 0) out.push(n.msg); // `a/#` matches `a` itself
      for (const [name, c] of n.children) if (!(i === 0 && name.startsWith("$"))) this.collect(c, out);
      return;
    }
    if (level === "+") {
      for (const [name, c] of n.children) if (!(i === 0 && name.startsWith("$"))) this.walk(c, f, i + 1, out);
      return;
    }
    const c = n.children.get(level);
    if (c !== undefined) this.walk(c, f, i + 1, out);
  }

  private collect(n: Node, out: StoredMessage[]): void {
    if (n.msg !== null) out.push(n.msg);
    for (const c of n.children.values()) this.collect(c, out);
  }
}
