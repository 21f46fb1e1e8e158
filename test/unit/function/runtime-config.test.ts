import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../../src/config/index.ts";
import { parseRuntimeConfig } from "../../../src/function/index.ts";
import { DEFAULT_BUSY_POLL_MS } from "../../../src/lib/busy-poll.ts";

const opts = { env: {}, file: "service.yml", cwd: "/inst" };

describe("runtime service.yml", () => {
  test("OpenEdge keys: handler split into module and export, codedir under the instance dir", () => {
    const { value } = parseRuntimeConfig(
      "functions:\n  - name: sayhi\n    handler: lib/tools.handler\n    codedir: var/db/code\n    timeout: 5s\nruntime:\n  python3: /usr/bin/python3\n",
      opts,
    );
    expect(value).toEqual({
      functions: [
        {
          name: "sayhi",
          handler: "lib/tools.handler",
          module: "lib/tools",
          exportName: "handler",
          codedir: "/inst/var/db/code",
          timeoutMs: 5_000,
        },
      ],
      python3: "/usr/bin/python3",
      busyPollMs: DEFAULT_BUSY_POLL_MS,
    });
  });

  test("busypoll: a duration up to 10ms", () => {
    const fn = "functions:\n  - {name: f, handler: m.h}\n";
    expect(parseRuntimeConfig(`${fn}busypoll: 200us\n`, opts).value.busyPollMs).toBeCloseTo(0.2, 9);
    expect(() => parseRuntimeConfig(`${fn}busypoll: 20ms\n`, opts)).toThrow("busypoll: must be at most 10ms");
  });

  test("errors name the field", () => {
    const text =
      "functions:\n  - name: a\n    handler: nodot\n  - name: a\n    handler: x.y\n    timeout: soon\n";
    let error: unknown;
    try {
      parseRuntimeConfig(text, opts);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      "functions[0].handler: must be <module>.<function>, such as index.handler",
      "functions[1].timeout: must be a duration such as 500ms, 30s, 5m or 48h",
      'functions[1].name: duplicate function name "a"',
    ]);
    expect(() => parseRuntimeConfig("name: x\n", opts)).toThrow(/functions: is required/);
  });
});
