// The service.yml of a runtime instance (OpenEdge keys): `functions: [{name, handler, codedir,
// timeout}]`, plus `runtime.python3` for the Python runtime and `busypoll`. Paths resolve against the
// instance dir.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type EnvMap, type MapReader, type Parsed, parseConfigText } from "../config/index.ts";
import { readBusyPoll } from "../lib/busy-poll.ts";
import { OpenEdgeError } from "../lib/errors.ts";

/** Where the engine mounts a service's config volume, relative to the instance dir. */
export const RUNTIME_CONFIG_PATH = "etc/openedge/service.yml";
export const DEFAULT_FUNCTION_TIMEOUT_MS = 30_000;

export interface FunctionSpec {
  name: string;
  /** As written: `module.export` (`index.handler`). */
  handler: string;
  /** The module part of `handler` (`index`, `lib/tools` or `pkg.mod`). */
  module: string;
  /** The export part of `handler` (`handler`). */
  exportName: string;
  /** Absolute. */
  codedir: string;
  timeoutMs: number;
}

export interface RuntimeConfig {
  functions: FunctionSpec[];
  /** `runtime.python3`: the interpreter the Python runtime runs (absent: OPENEDGE_PYTHON3 or PATH). */
  python3?: string;
  /**
   * `busypoll`: after answering, keep polling for the next call up to this long (ms, the longest
   * adaptive window, see BusyPoller; 0: sleep at once). Saves the wake-up of an idle CPU per call where
   * that is slow, for the CPU spent polling while calls keep coming.
   */
  busyPollMs: number;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const HANDLER = /^[^.\s][^\s]*\.[A-Za-z_$][\w$]*$/;

function readFunction(r: MapReader, cwd: string): FunctionSpec {
  const name = r.string("name", { required: true, pattern: NAME });
  const handler = r.string("handler", {
    required: true,
    check: (v) => (HANDLER.test(v) ? undefined : "must be <module>.<function>, such as index.handler"),
  });
  const codedir = r.string("codedir", { default: "." });
  // a number fallback would read as seconds: default after the fact
  const timeoutMs = r.duration("timeout", undefined) ?? DEFAULT_FUNCTION_TIMEOUT_MS;
  const dot = handler.lastIndexOf(".");
  return {
    name,
    handler,
    module: handler.slice(0, Math.max(0, dot)),
    exportName: handler.slice(dot + 1),
    codedir: resolve(cwd, codedir),
    timeoutMs: timeoutMs > 0 ? timeoutMs : DEFAULT_FUNCTION_TIMEOUT_MS,
  };
}

export function readRuntimeConfig(r: MapReader, cwd: string): RuntimeConfig {
  // OpenEdge runtimes also read `name`, `server` and `logger`; the socket comes from the env here
  r.allow("name", "server", "logger");
  const functions = r.objects("functions", (f) => readFunction(f, cwd));
  if (!r.has("functions")) r.error("functions", "is required (at least one function)");
  const seen = new Set<string>();
  functions.forEach((f, i) => {
    if (seen.has(f.name)) r.issues.error(`functions[${i}].name`, `duplicate function name "${f.name}"`);
    seen.add(f.name);
  });
  const python3 = r.object("runtime", (rt) => rt.string("python3"));
  const busyPollMs = readBusyPoll(r);
  return python3 === undefined ? { functions, busyPollMs } : { functions, python3, busyPollMs };
}

export function parseRuntimeConfig(
  text: string,
  options: { env: EnvMap; file: string; cwd: string },
): Parsed<RuntimeConfig> {
  return parseConfigText(text, { env: options.env, file: options.file }, (r) =>
    readRuntimeConfig(r, options.cwd),
  );
}

/** Reads `etc/openedge/service.yml` of the instance dir `cwd`. */
export function loadRuntimeConfig(cwd: string, env: EnvMap): Parsed<RuntimeConfig> {
  const file = resolve(cwd, RUNTIME_CONFIG_PATH);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new OpenEdgeError("ERR_CONFIG", `cannot read the runtime's config "${file}"`, {
      cause,
      details: { file, error: cause instanceof Error ? cause.message : String(cause) },
    });
  }
  return parseRuntimeConfig(text, { env, file, cwd });
}
