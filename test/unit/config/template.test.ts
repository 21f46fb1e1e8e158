import { describe, expect, test } from "bun:test";
import { placeholderNames } from "../../../src/config/index.ts";
import { fillScalar, maskPlaceholders } from "../../../src/config/template.ts";
import { app, appErrors, openedge, service } from "./helpers.ts";

describe("env placeholders", () => {
  test("fills {{.NAME}} and {{ .NAME }} from the env map", () => {
    const { app: a } = app(service('    env:\n      A: "{{.USER}}"\n      B: "x-{{ .USER }}-{{.HOST}}"'), {
      USER: "edge",
      HOST: "pi",
    });
    expect(a.services[0]?.env).toEqual({ A: "edge", B: "x-edge-pi" });
  });

  test("an unset variable is an error naming the variable and the path", () => {
    expect(appErrors(service('    env:\n      PASSWORD: "{{.DB_PASS}}"'))).toEqual([
      'services[0].env.PASSWORD: environment variable "DB_PASS" is not set',
    ]);
  });

  test("the error names the file", () => {
    try {
      openedge("grace: {{.GRACE}}");
    } catch (err) {
      expect((err as Error).message).toContain('"openedge.yml"');
      expect((err as Error).message).toContain('grace: environment variable "GRACE" is not set (line 1)');
      return;
    }
    throw new Error("expected an error");
  });

  test("an unset variable is reported once per scalar, and the value is not checked further", () => {
    expect(appErrors('services:\n  - name: "{{.N}}{{.N}}"\n    image: "{{.IMG}}"')).toEqual([
      'services[0].name: environment variable "N" is not set',
      'services[0].image: environment variable "IMG" is not set',
    ]);
  });

  test("a value holding YAML syntax cannot change the document's structure", () => {
    const { app: a } = app(service("    env:\n      P: {{.P}}\n      Q: x"), { P: "a: b # not a comment" });
    expect(a.services[0]?.env).toEqual({ P: "a: b # not a comment", Q: "x" });
  });

  test("an unquoted whole placeholder is typed like a plain scalar", () => {
    const { app: a } = app(
      service(
        "    replica: {{.N}}\n    mounts:\n      - {name: v, path: p, readonly: {{.RO}}}",
        "  - {name: v, path: v}",
      ),
      {
        N: "3",
        RO: "true",
      },
    );
    expect(a.services[0]?.replica).toBe(3);
    expect(a.services[0]?.mounts[0]?.readonly).toBe(true);
  });

  test("a quoted placeholder stays a string", () => {
    expect(appErrors(service('    replica: "{{.N}}"'), { N: "3" })).toEqual([
      "services[0].replica: must be an integer >= 0",
    ]);
  });

  test("an empty value of an unquoted whole placeholder reads as absent, so the default applies", () => {
    expect(openedge("grace: {{.G}}", { G: "" }).config.grace).toBe(30_000);
  });

  test("placeholders in comments are ignored", () => {
    expect(openedge("# {{.NOT_SET}}\nmode: native # {{.NOT_SET_EITHER}}").config.mode).toBe("native");
  });

  test("placeholders in keys are filled", () => {
    expect(app(service('    env:\n      "{{.K}}": v'), { K: "KEY" }).app.services[0]?.env).toEqual({
      KEY: "v",
    });
  });

  test("text that looks like the sentinel is left alone", () => {
    const { app: a } = app(service('    env:\n      A: __openedge_env_0__\n      B: "{{.X}}"'), { X: "x" });
    expect(a.services[0]?.env).toEqual({ A: "__openedge_env_0__", B: "x" });
  });

  test("maskPlaceholders and fillScalar", () => {
    const masked = maskPlaceholders("a: {{.A}}\nb: {{ .B }}");
    expect(masked.names).toEqual(["A", "B"]);
    expect(masked.text).not.toContain("{{");
    const a = masked.text.split("\n")[0]?.slice(3) ?? "";
    expect(fillScalar(a, masked, { A: "1" })).toEqual({ value: "1", whole: true, missing: [] });
    expect(fillScalar("plain", masked, {})).toBeNull();
  });

  test("placeholderNames lists each name once", () => {
    expect(placeholderNames("{{.A}} {{ .B }} {{.A}} {{ A }}")).toEqual(["A", "B"]);
  });
});
