import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { directPython3Launch } from "../../../src/function/runtime-python3.ts";
import { DEFAULT_BUSY_POLL_MS } from "../../../src/lib/busy-poll.ts";

const root = mkdtempSync(join(tmpdir(), "oe-py-launch-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An instance dir whose etc/openedge/service.yml holds `yml`. */
function instanceDir(name: string, yml: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "etc/openedge"), { recursive: true });
  writeFileSync(join(dir, "etc/openedge/service.yml"), yml);
  return dir;
}

const env = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  OPENEDGE_SERVICE_INSTANCE_ADDRESS: "unix://var/run/fn.sock",
  ...extra,
});

describe("starting a Python instance without the runner", () => {
  test("python3 itself, argv[0] its own path, the script and the validated config", () => {
    const dir = instanceDir("ok", "functions:\n  - name: f\n    handler: h.echo\n    codedir: code\n");
    const launch = directPython3Launch(dir, env({ OPENEDGE_PYTHON3: "/bin/sh" }), root);
    expect(launch?.argv0).toBe("/bin/sh");
    expect(launch?.argv.slice(0, 3)).toEqual(["/bin/sh", "-u", "-c"]);
    expect(launch?.argv[3]).toMatch(/import openedge_function_python3_[0-9a-f]{16} as runtime; /);
    // the module sits in the work dir (only the master's user writes there), not in a shared /tmp
    expect(launch?.argv[3]).toContain(JSON.stringify(join(root, "var/run/openedge/python3")));
    expect(JSON.parse(launch?.argv[4] ?? "null")).toEqual({
      socket: join(dir, "var/run/fn.sock"),
      functions: [
        { name: "f", module: "h", exportName: "echo", codedir: join(dir, "code"), timeoutMs: 30_000 },
      ],
      busyPollMs: DEFAULT_BUSY_POLL_MS,
    });
  });

  test("anything to report (an error, a warning, no interpreter) leaves it to the runner", () => {
    const good = "functions:\n  - name: f\n    handler: h.echo\n";
    expect(directPython3Launch(instanceDir("bad", "functions:\n  - name: f\n"), env(), root)).toBeNull();
    expect(directPython3Launch(instanceDir("warn", `${good}handlr: x\n`), env(), root)).toBeNull();
    expect(
      directPython3Launch(instanceDir("nopy", good), env({ OPENEDGE_PYTHON3: "/nonexistent/python3" }), root),
    ).toBeNull();
    expect(directPython3Launch(instanceDir("noaddr", good), { PATH: "/usr/bin:/bin" }, root)).toBeNull();
  });
});
