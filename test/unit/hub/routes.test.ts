// Route validation: duplicates and cycles (direct, transitive, through wildcards) are rejected.

import { describe, expect, test } from "bun:test";
import { type Route, routeIssues } from "../../../src/hub/routes.ts";

const r = (source: string, target: string): Route => ({
  source: { topic: source, qos: 0 },
  target: { topic: target, qos: 0 },
});

describe("routes", () => {
  test("a chain without a cycle is fine", () => {
    expect(routeIssues([r("a", "b"), r("b", "c"), r("c/#", "d")])).toEqual([]);
  });

  test("duplicates are rejected", () => {
    expect(routeIssues([r("a", "b"), r("x", "y"), r("a", "b")])).toEqual([
      { path: "[2]", message: "duplicates subscriptions[0]" },
    ]);
  });

  test("a route whose target matches its own source is a cycle", () => {
    expect(routeIssues([r("t/#", "t/copy")])).toEqual([
      { path: "[0].target.topic", message: "forms a cycle: subscriptions[0] → subscriptions[0]" },
    ]);
  });

  test("a transitive cycle through wildcards is reported once, naming the chain", () => {
    expect(routeIssues([r("a", "b/1"), r("x", "y"), r("b/+", "c"), r("c", "a")])).toEqual([
      {
        path: "[0].target.topic",
        message: "forms a cycle: subscriptions[0] → subscriptions[2] → subscriptions[3] → subscriptions[0]",
      },
    ]);
  });

  test("$ topics are not matched by a leading wildcard, so they form no cycle with #", () => {
    expect(routeIssues([r("#", "$SYS/copy")])).toEqual([]);
  });
});
