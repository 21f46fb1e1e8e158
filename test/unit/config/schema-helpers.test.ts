import { describe, expect, test } from "bun:test";
import { ConfigError, type MapReader, parseConfigText } from "../../../src/config/index.ts";

/** Reads `text` with `read`; returns the value and warnings, or the error issues. */
function read<T>(text: string, fn: (r: MapReader) => T): { value?: T; warnings: string[]; errors: string[] } {
  try {
    const { value, warnings } = parseConfigText(text, { env: {}, file: "t.yml" }, fn);
    return { value, warnings, errors: [] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { warnings: [], errors: err.issues };
  }
}

describe("MapReader", () => {
  test("string: required, pattern, default, numbers and booleans as written", () => {
    const fn = (r: MapReader) => ({
      a: r.string("a", { required: true }),
      b: r.string("b", { default: "dflt" }),
      c: r.string("c"),
      v: r.string("v"),
      t: r.string("t"),
    });
    expect(read("v: 1.10\nt: true\na: x", fn).value).toEqual({
      a: "x",
      b: "dflt",
      c: undefined,
      v: "1.10",
      t: "true",
    });
    expect(read("b: [1]", fn).errors).toEqual(["a: is required", "b: must be a string"]);
    expect(read('a: ""', fn).errors).toEqual(["a: is required"]);
    expect(read("a: -x", (r) => r.string("a", { pattern: /^[a-z]+$/ })).errors).toEqual([
      "a: must match ^[a-z]+$",
    ]);
  });

  test("oneOf", () => {
    const fn = (r: MapReader) => r.oneOf("p", ["always", "on-failure", "no"] as const, "always");
    expect(read("", fn).value).toBe("always");
    expect(read('p: "no"', fn).value).toBe("no");
    expect(read("p: never", fn).errors).toEqual(["p: must be one of always, on-failure, no"]);
  });

  test("int with bounds", () => {
    expect(read("n: 3", (r) => r.int("n", 1, { min: 0 })).value).toBe(3);
    expect(read("", (r) => r.int("n", 1, { min: 0 })).value).toBe(1);
    expect(read("n: -1", (r) => r.int("n", 1, { min: 0 })).errors).toEqual(["n: must be an integer >= 0"]);
    expect(read("n: 1.5", (r) => r.int("n", 1)).errors).toEqual(["n: must be an integer"]);
    expect(read("n: 9", (r) => r.int("n", 1, { max: 5 })).errors).toEqual(["n: must be an integer <= 5"]);
    expect(read("n: 9", (r) => r.int("n", 1, { min: 1, max: 5 })).errors).toEqual([
      "n: must be an integer between 1 and 5",
    ]);
    expect(read('n: "3"', (r) => r.int("n", 1)).errors).toEqual(["n: must be an integer"]);
  });

  test("number with bounds", () => {
    expect(read("f: 1.5", (r) => r.number("f", 2, { min: 1 })).value).toBe(1.5);
    expect(read("f: 0.5", (r) => r.number("f", 2, { min: 1 })).errors).toEqual(["f: must be a number >= 1"]);
    expect(read("f: 0", (r) => r.number("f", undefined, { above: 0 })).errors).toEqual([
      "f: must be a number > 0",
    ]);
    expect(read("f: x", (r) => r.number("f", 2)).errors).toEqual(["f: must be a number"]);
  });

  test("bool", () => {
    expect(read("b: false", (r) => r.bool("b", true)).value).toBe(false);
    expect(read("b: yes", (r) => r.bool("b", true)).errors).toEqual(["b: must be true or false"]);
  });

  test("duration: strings, seconds as numbers, defaults", () => {
    const fn = (r: MapReader) => [
      r.duration("a", "30s"),
      r.duration("b", "30s"),
      r.duration("c", "5m"),
      r.duration("d", "1s"),
    ];
    expect(read("a: 500ms\nb: 48h\nc: 90", fn).value).toEqual([500, 48 * 3_600_000, 90_000, 1000]);
    expect(read("a: 1h30m", fn).value?.[0]).toBe(5_400_000);
    expect(read("a: soon", fn).errors).toEqual(["a: must be a duration such as 500ms, 30s, 5m or 48h"]);
    expect(read("a: -1s", fn).errors).toEqual(["a: must be a duration such as 500ms, 30s, 5m or 48h"]);
  });

  test("size: strings, numbers in a unit, defaults", () => {
    const fn = (r: MapReader) => [r.size("a", "4m"), r.size("b", 50, 1024 * 1024), r.size("c", "1g")];
    expect(read("a: 32k\nb: 2", fn).value).toEqual([32 * 1024, 2 * 1024 * 1024, 1024 ** 3]);
    expect(read("b: 10m", fn).value?.[1]).toBe(10 * 1024 * 1024);
    expect(read("a: 100", fn).value?.[0]).toBe(100);
    expect(read("a: big", fn).errors).toEqual(["a: must be a size such as 32k, 4m or 1g"]);
  });

  test("object, list, objects, strings, stringMap: shapes and paths", () => {
    const fn = (r: MapReader) => ({
      o: r.object("o", (o) => o.int("n", 0)),
      l: r.objects("l", (i) => i.string("k", { required: true })),
      s: r.strings("s"),
      m: r.stringMap("m"),
    });
    expect(read("o: {n: 2}\nl: [{k: a}, {k: b}]\ns: [a, 1, false]\nm: {A: 1, B: x, C: }", fn).value).toEqual({
      o: 2,
      l: ["a", "b"],
      s: ["a", "1", "false"],
      m: { A: "1", B: "x", C: "" },
    });
    expect(read("o: 1\nl: {k: a}\ns: [[x]]\nm: [1]", fn).errors).toEqual([
      "o: must be a mapping",
      "l: must be a list",
      "s[0]: must be a string",
      "m: must be a mapping",
    ]);
    expect(read("l: [a, {}]", fn).errors).toEqual(["l[0]: must be a mapping", "l[1].k: is required"]);
    expect(read("m: {A: [1]}", fn).errors).toEqual(["m.A: must be a string"]);
  });

  test("a document that is not a mapping", () => {
    expect(read("- a", (r) => r.string("x")).errors).toEqual(["the document must be a mapping"]);
  });

  test("unknown keys are warnings, with a suggestion when one key is a typo away", () => {
    const fn = (r: MapReader) => [
      r.string("image"),
      r.int("replica", 1),
      r.object("restart", (o) => o.string("policy")),
    ];
    expect(read("imgae: x\nreplcia: 2\nrestart: {polcy: no}\nfoo: 1", fn).warnings).toEqual([
      'imgae: unknown key (did you mean "image"?)',
      'replcia: unknown key (did you mean "replica"?)',
      'restart.polcy: unknown key (did you mean "policy"?)',
      "foo: unknown key",
    ]);
  });

  test("allow() marks keys another component validates", () => {
    expect(read("x: 1\ny: 2", (r) => r.allow("x", "y")).warnings).toEqual([]);
  });

  test("every error is collected, in file order", () => {
    const fn = (r: MapReader) => [r.int("b", 0), r.int("a", 0)];
    expect(read("a: x\nb: y", fn).errors).toEqual(["a: must be an integer", "b: must be an integer"]);
  });

  test("ConfigError lists every issue with its line and names the file", () => {
    try {
      parseConfigText("a: x\n\nb: y", { env: {}, file: "etc/t.yml" }, (r) => [r.int("a", 0), r.int("b", 0)]);
    } catch (err) {
      const e = err as ConfigError;
      expect(e.code).toBe("ERR_CONFIG");
      expect(e.file).toBe("etc/t.yml");
      expect(e.message).toBe(
        'invalid config file "etc/t.yml" (2 errors):\n  a: must be an integer (line 1)\n  b: must be an integer (line 3)',
      );
      expect(e.details.issues).toEqual([
        { path: "a", message: "must be an integer", line: 1 },
        { path: "b", message: "must be an integer", line: 3 },
      ]);
      return;
    }
    throw new Error("expected an error");
  });
});
