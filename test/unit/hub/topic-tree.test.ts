import { describe, expect, test } from "bun:test";
import { DEFAULT_HUB_LIMITS } from "../../../src/hub/contracts.ts";
import { RetainTree } from "../../../src/hub/retain-tree.ts";
import { TopicTree } from "../../../src/hub/topic-tree.ts";
import { filterMatches, topicFilterError, topicNameError } from "../../../src/hub/topic-validation.ts";

const limits = DEFAULT_HUB_LIMITS;

function matchOf(filters: string[], topic: string): string[] {
  const tree = new TopicTree<string>();
  for (const f of filters) tree.add(f, f, 0);
  return [...tree.match(topic).keys()].sort();
}

describe("topic tree", () => {
  test("exact, + and # matching", () => {
    const filters = ["a/b/c", "a/+/c", "a/#", "#", "+/b/+", "a/b", "+", "a/+"];
    expect(matchOf(filters, "a/b/c")).toEqual(["#", "+/b/+", "a/#", "a/+/c", "a/b/c"]);
    expect(matchOf(filters, "a")).toEqual(["#", "+", "a/#"]); // [MQTT-4.7.1-2] a/# matches a
    expect(matchOf(filters, "a/b")).toEqual(["#", "a/#", "a/+", "a/b"]);
  });

  test("[MQTT-4.7.2-1] $ topics are not matched by a leading wildcard", () => {
    const filters = ["#", "+/x", "$SYS/#", "$SYS/+", "+/+"];
    expect(matchOf(filters, "$SYS/x")).toEqual(["$SYS/#", "$SYS/+"]);
    expect(matchOf(filters, "$hw/x")).toEqual([]);
  });

  test("empty levels are levels", () => {
    expect(matchOf(["/+", "+/+", "/#", "+"], "/a")).toEqual(["+/+", "/#", "/+"]);
    expect(matchOf(["a//b", "a/+/b"], "a//b")).toEqual(["a/+/b", "a//b"]);
  });

  test("overlapping subscriptions: each subscriber once with the highest QoS", () => {
    const tree = new TopicTree<string>();
    tree.add("a/#", "s1", 0);
    tree.add("a/+", "s1", 2);
    tree.add("a/b", "s1", 1);
    tree.add("a/b", "s2", 1);
    expect([...tree.match("a/b")]).toEqual([
      ["s1", 2],
      ["s2", 1],
    ]);
  });

  test("remove prunes and counts", () => {
    const tree = new TopicTree<string>();
    tree.add("a/b/c", "s", 1);
    expect(tree.add("a/b/c", "s", 2)).toBe(false);
    expect(tree.size).toBe(1);
    expect(tree.remove("a/b", "s")).toBe(false);
    expect(tree.remove("a/b/c", "s")).toBe(true);
    expect(tree.size).toBe(0);
    expect(tree.match("a/b/c").size).toBe(0);
    expect(tree.hasRoot("a")).toBe(false);
  });

  test("agrees with filterMatches on a random corpus", () => {
    const parts = ["a", "b", "$x", ""];
    const rnd = (n: number) => Math.floor(Math.random() * n);
    const filters = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const n = 1 + rnd(4);
      const ls = Array.from({ length: n }, () => [...parts, "+"][rnd(5)] as string);
      if (rnd(3) === 0) ls.push("#");
      filters.add(ls.join("/"));
    }
    const tree = new TopicTree<string>();
    for (const f of filters) tree.add(f, f, 0);
    for (let i = 0; i < 200; i++) {
      const topic = Array.from({ length: 1 + rnd(4) }, () => parts[rnd(4)] as string).join("/");
      const expected = [...filters].filter((f) => filterMatches(f, topic)).sort();
      expect([...tree.match(topic).keys()].sort()).toEqual(expected);
    }
  });
});

describe("topic validation", () => {
  test("[MQTT-3.3.2-2] wildcards are refused in topic names", () => {
    expect(topicNameError("a/+/b", limits)).toBe("wildcard in topic name");
    expect(topicNameError("a/#", limits)).toBe("wildcard in topic name");
    expect(topicNameError("a/b c/ü", limits)).toBeNull();
  });

  test("[MQTT-4.7.1-2] # alone and last; [MQTT-4.7.1-3] + alone in its level", () => {
    for (const ok of ["#", "a/#", "+", "+/+/#", "/+", "$SYS/#"])
      expect(topicFilterError(ok, limits)).toBeNull();
    for (const bad of ["a#", "a/#/b", "a/b#", "a+", "a/+b", "#/a"])
      expect(topicFilterError(bad, limits)).not.toBeNull();
  });

  test("[MQTT-4.7.3-1] empty and [MQTT-4.7.3-2] NUL are refused", () => {
    expect(topicNameError("", limits)).toBe("empty");
    expect(topicFilterError("a\u0000b", limits)).toBe("contains NUL");
  });

  test("configurable byte and level limits (OpenEdge: 255 bytes, 8 levels)", () => {
    const strict = { maxTopicBytes: 255, maxTopicLevels: 8 };
    expect(topicNameError("a/b/c/d/e/f/g/h", strict)).toBeNull();
    expect(topicNameError("a/b/c/d/e/f/g/h/i", strict)).toBe("too many levels");
    expect(topicNameError("x".repeat(256), strict)).toBe("too long");
    expect(topicNameError("ü".repeat(128), strict)).toBe("too long"); // bytes, not characters
  });
});

describe("retain tree", () => {
  test("set, replace, clear and match by filter", () => {
    const r = new RetainTree();
    const m = (topic: string, p = "x") => ({
      topic,
      payload: new TextEncoder().encode(p),
      qos: 0 as const,
      retain: true,
    });
    r.set("a/b", m("a/b"));
    r.set("a/b", m("a/b", "y"));
    r.set("a", m("a"));
    r.set("a/c/d", m("a/c/d"));
    r.set("$SYS/x", m("$SYS/x"));
    expect(r.size).toBe(4);
    const topics = (f: string) =>
      r
        .match(f)
        .map((x) => x.topic)
        .sort();
    expect(topics("a/#")).toEqual(["a", "a/b", "a/c/d"]);
    expect(topics("#")).toEqual(["a", "a/b", "a/c/d"]);
    expect(topics("+/+")).toEqual(["a/b"]);
    expect(topics("$SYS/+")).toEqual(["$SYS/x"]);
    expect(new TextDecoder().decode(r.get("a/b")?.payload)).toBe("y");
    r.set("a/b", null);
    r.set("a/c/d", null);
    expect(topics("#")).toEqual(["a"]);
    expect(r.size).toBe(2);
  });
});
