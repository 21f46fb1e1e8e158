// Topic filter algebra: validity, matching, and filter-within-filter coverage for permissions.

import { describe, expect, test } from "bun:test";
import { filterMatches, filterProblem, filtersCover, topicProblem } from "../../../src/hub/auth-filters.ts";

describe("topic filters", () => {
  test("validity [MQTT-4.7.1-2] [MQTT-4.7.1-3]", () => {
    for (const ok of ["#", "+", "a/+/b", "a/#", "+/+", "/", "a//b", "$SYS/#"])
      expect(filterProblem(ok)).toBeUndefined();
    for (const bad of ["", "a#", "a/#/b", "a+", "+a/b", "a/b#"]) expect(filterProblem(bad)).toBeDefined();
    expect(topicProblem("a/+")).toBeDefined();
    expect(topicProblem("a/b")).toBeUndefined();
  });

  test("matching, with $ topics kept out of leading wildcards [MQTT-4.7.2-1]", () => {
    expect(filterMatches("a/#", "a")).toBe(true);
    expect(filterMatches("a/#", "a/b/c")).toBe(true);
    expect(filterMatches("a/+", "a/b/c")).toBe(false);
    expect(filterMatches("+/+", "/x")).toBe(true);
    expect(filterMatches("#", "$SYS/x")).toBe(false);
    expect(filterMatches("+/x", "$SYS/x")).toBe(false);
    expect(filterMatches("$SYS/#", "$SYS/x")).toBe(true);
  });

  test("a permit covers a topic", () => {
    expect(filtersCover(["a/+/c"], "a/b/c")).toBe(true);
    expect(filtersCover(["a/+/c"], "a/b/d")).toBe(false);
    expect(filtersCover(["#"], "$hw/events")).toBe(true);
    expect(filtersCover(["a/#"], "a")).toBe(true);
  });

  test("a permit covers a filter only when every topic it matches is allowed", () => {
    expect(filtersCover(["a/#"], "a/+/c")).toBe(true);
    expect(filtersCover(["a/+"], "a/+")).toBe(true);
    expect(filtersCover(["a/+"], "a/#")).toBe(false);
    expect(filtersCover(["a/b"], "a/+")).toBe(false);
    expect(filtersCover(["a/+/#"], "a/#")).toBe(false);
    expect(filtersCover(["+/b"], "#")).toBe(false);
    expect(filtersCover(["#"], "#")).toBe(true);
    expect(filtersCover(["a/+/c"], "a/+/+")).toBe(false);
  });

  test("several permits together may cover a filter none covers alone", () => {
    expect(filtersCover(["a", "a/+/#"], "a/#")).toBe(true);
    expect(filtersCover(["a", "a/+/+/#"], "a/#")).toBe(false);
    expect(filtersCover(["a", "a/+", "a/+/+/#"], "a/#")).toBe(true);
  });
});
