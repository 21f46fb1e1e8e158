import { describe, expect, test } from "bun:test";
import { Issues } from "../../../src/config/index.ts";
import { parseYamlTree, type YNode } from "../../../src/config/yaml-tree.ts";
import { app, appErrors, configError } from "./helpers.ts";

function tree(text: string): { node: YNode | undefined; issues: Issues } {
  const issues = new Issues();
  return { node: parseYamlTree(text, {}, issues), issues };
}

describe("yaml tree", () => {
  test("an empty document is undefined", () => {
    expect(tree("").node).toBeUndefined();
    expect(tree("# only a comment\n").node).toBeUndefined();
  });

  test("keeps lines and the source text of scalars", () => {
    const { node } = tree("a: 1\nb:\n  - 1.10\n");
    expect(node?.kind).toBe("map");
    if (node?.kind !== "map") return;
    expect(node.keyLines.get("b")).toBe(2);
    const seq = node.entries.get("b");
    expect(seq?.kind === "seq" && seq.items[0]).toEqual({
      kind: "scalar",
      value: 1.1,
      text: "1.10",
      line: 3,
    });
  });

  test("syntax errors carry a line", () => {
    const e = configError(() => app("services:\n  - name: a\n   image: b\n"));
    expect(e.issues).toEqual(["invalid YAML: Sequence item without - indicator"]);
    expect(e.details.issues).toEqual([
      { path: "", message: "invalid YAML: Sequence item without - indicator", line: 3 },
    ]);
  });

  test("duplicate keys are an error", () => {
    expect(appErrors("version: a\nversion: b\n")).toEqual(["invalid YAML: Map keys must be unique"]);
  });

  test("anchors, aliases and merge keys work; explicit keys win over merged ones", () => {
    const { app: a, warnings } = app(`
x-restart: &restart
  policy: on-failure
  retry: {max: 3}
services:
  - name: a
    image: i
    restart:
      <<: *restart
      policy: "no"
`);
    // `x-` keys are extension fields: a place for anchors that no warning complains about
    expect(warnings).toEqual([]);
    expect(a.services[0]?.restart.policy).toBe("no");
    expect(a.services[0]?.restart.retry.max).toBe(3);
  });
});
