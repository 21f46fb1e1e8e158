import { expect, test } from "bun:test";
import { type CommandSpec, formatUsage, parseArgs, UsageError } from "../../../src/cli/args.ts";

const spec: CommandSpec = {
  name: "demo",
  summary: "a demo",
  usage: "openedge demo [-w DIR] [--force] [ARG]",
  flags: [
    { name: "workdir", short: "w", value: true, help: "work dir" },
    { name: "force", short: "f", help: "force" },
  ],
  maxPositionals: 1,
};

test("short, long and --name=value flags and positionals", () => {
  expect(parseArgs(spec, ["-w", "/x", "--force", "pos"])).toEqual({
    flags: new Map<string, string | true>([
      ["workdir", "/x"],
      ["force", true],
    ]),
    positionals: ["pos"],
  });
  expect(parseArgs(spec, ["--workdir=/y"]).flags.get("workdir")).toBe("/y");
});

test("bad input is a UsageError naming the argument", () => {
  expect(() => parseArgs(spec, ["--nope"])).toThrow(new UsageError("unknown flag --nope"));
  expect(() => parseArgs(spec, ["-w"])).toThrow(new UsageError("flag -w needs a value"));
  expect(() => parseArgs(spec, ["--force=1"])).toThrow(new UsageError("flag --force takes no value"));
  expect(() => parseArgs(spec, ["a", "b"])).toThrow(new UsageError('unexpected argument "b"'));
});

test("--help is always known and listed in the usage", () => {
  expect(parseArgs(spec, ["--help"]).flags.get("help")).toBe(true);
  const usage = formatUsage(spec);
  expect(usage).toContain("usage: openedge demo");
  expect(usage).toContain("-w, --workdir VALUE");
  expect(usage).toContain("-h, --help");
});
