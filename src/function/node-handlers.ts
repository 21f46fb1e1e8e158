// Loads JavaScript/TypeScript handlers from a function's codedir and calls them with OpenEdge's event,
// context and result semantics: `async handler(event, context)` or `handler(event, context, callback)`.

import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Clock, systemClock } from "../lib/clock.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import { eventOf, payloadOf } from "./payload-mapping.ts";
import { type CallOutcome, ErrorType, type InvokeCall } from "./protocol.ts";
import type { FunctionSpec } from "./runtime-config.ts";

export type NodeHandler = (event: unknown, context: FunctionContext, callback?: Callback) => unknown;
type Callback = (error?: unknown, result?: unknown) => void;

/** What a handler gets besides the event (OpenEdge's keys; `invokeid` is the older spelling). */
export interface FunctionContext {
  messageQOS: number;
  messageTopic: string;
  messageTimestamp: number;
  functionName: string;
  functionInvokeID: string;
  invokeid: string;
}

export interface LoadedFunction {
  spec: FunctionSpec;
  file: string;
  fn: NodeHandler;
  /** Declares a third parameter: it answers through the callback (a returned promise counts too). */
  callbackStyle: boolean;
}

const EXTENSIONS = ["", ".js", ".ts", ".mjs", ".cjs", ".mts", ".cts", ".jsx", ".tsx"];

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The file `module` names inside codedir (extension optional, or a folder's index). */
export function resolveHandlerFile(spec: FunctionSpec): string {
  const base = resolve(spec.codedir, spec.module);
  for (const ext of EXTENSIONS) if (isFile(base + ext)) return base + ext;
  for (const ext of EXTENSIONS.slice(1))
    if (isFile(join(base, `index${ext}`))) return join(base, `index${ext}`);
  const where = existsSync(spec.codedir) ? "" : ` (codedir "${spec.codedir}" does not exist)`;
  throw new OpenEdgeError(
    "ERR_CONFIG",
    `function "${spec.name}": handler "${spec.handler}": no module "${spec.module}" in "${spec.codedir}"${where}`,
    { details: { function: spec.name, handler: spec.handler, codedir: spec.codedir } },
  );
}

/** Imports the handler module (a syntax error surfaces here) and finds its export. */
export async function loadFunction(spec: FunctionSpec): Promise<LoadedFunction> {
  const file = resolveHandlerFile(spec);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (cause) {
    const text = loadErrorText(cause);
    throw new OpenEdgeError("ERR_CONFIG", `function "${spec.name}": cannot load "${file}": ${text}`, {
      cause,
      details: { function: spec.name, file },
    });
  }
  const fromDefault = (mod.default as Record<string, unknown> | undefined)?.[spec.exportName];
  const fn = mod[spec.exportName] ?? fromDefault;
  if (typeof fn !== "function") {
    throw new OpenEdgeError(
      "ERR_CONFIG",
      `function "${spec.name}": "${file}" has no function export "${spec.exportName}" (handler "${spec.handler}")`,
      { details: { function: spec.name, file, export: spec.exportName } },
    );
  }
  const handler = fn as NodeHandler;
  return { spec, file, fn: handler, callbackStyle: handler.length >= 3 };
}

/** Bun reports a parse error as a BuildMessage (not an Error): say SyntaxError, with its position. */
function loadErrorText(cause: unknown): string {
  const c = cause as { name?: unknown; message?: unknown; position?: { line?: unknown; column?: unknown } };
  if (c !== null && typeof c === "object" && c.name === "BuildMessage") {
    const line = c.position?.line;
    const at = typeof line === "number" ? ` (line ${line}, column ${String(c.position?.column)})` : "";
    return `SyntaxError: ${String(c.message)}${at}`;
  }
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

export function contextOf(call: InvokeCall): FunctionContext {
  return {
    messageQOS: call.qos,
    messageTopic: call.topic,
    messageTimestamp: call.timestamp,
    functionName: call.functionName,
    functionInvokeID: call.functionInvokeId,
    invokeid: call.functionInvokeId,
  };
}

/** The errorType of anything thrown: an error's name (TypeError, a custom class), else "Error". */
export function errorTypeOf(thrown: unknown): string {
  if (thrown instanceof Error) {
    const ctorName = thrown.constructor?.name;
    return thrown.name !== "Error" ? thrown.name : ctorName && ctorName !== "Object" ? ctorName : "Error";
  }
  return "Error";
}

function failure(thrown: unknown): CallOutcome {
  const message =
    thrown instanceof Error ? thrown.message : typeof thrown === "string" ? thrown : String(thrown);
  return { ok: false, errorType: errorTypeOf(thrown), errorMessage: message };
}

/**
 * Runs one call. A throw, a rejected promise or a callback error become an error outcome; past
 * `timeoutMs` the outcome is a TimeoutError (the handler's work is abandoned, not stopped: a handler
 * that blocks the event loop is beyond reach — the pool replaces such an instance). A handler that
 * returns a plain value is answered at once: no promise, no timer (it cannot run late any more).
 */
export function invokeFunction(
  loaded: LoadedFunction,
  call: InvokeCall,
  timeoutMs: number,
  clock: Clock = systemClock,
): CallOutcome | Promise<CallOutcome> {
  if (!loaded.callbackStyle) {
    const started = clock.monotonic();
    let returned: unknown;
    try {
      returned = loaded.fn(eventOf(call.payload), contextOf(call));
    } catch (error) {
      return failure(error);
    }
    if (!isThenable(returned)) return success(returned);
    // the timer counts from the call's start: the handler's synchronous part has run already
    return settle(loaded, timeoutMs, timeoutMs - (clock.monotonic() - started), clock, (finish) => {
      returned.then(
        (value) => finish(success(value)),
        (error: unknown) => finish(failure(error)),
      );
    });
  }
  return settle(loaded, timeoutMs, timeoutMs, clock, (finish) => {
    const callback: Callback = (error, result) => finish(error ? failure(error) : success(result));
    const returned = loaded.fn(eventOf(call.payload), contextOf(call), callback);
    if (isThenable(returned)) {
      returned.then(
        // an async callback-style handler that resolves undefined has answered (or will) by callback
        (value) => {
          if (value !== undefined) finish(success(value));
        },
        (error: unknown) => finish(failure(error)),
      );
    }
  });
}

/** The outcome for a handler's result; one JSON cannot encode (a cycle, a BigInt) is an error. */
function success(result: unknown): CallOutcome {
  try {
    return { ok: true, payload: payloadOf(result) };
  } catch (error) {
    return failure(error);
  }
}

/** The first outcome `start` reports, or a TimeoutError (naming `timeoutMs`) after `delayMs`. */
function settle(
  loaded: LoadedFunction,
  timeoutMs: number,
  delayMs: number,
  clock: Clock,
  start: (finish: (outcome: CallOutcome) => void) => void,
): Promise<CallOutcome> {
  return new Promise<CallOutcome>((resolveOutcome) => {
    let settled = false;
    const finish = (outcome: CallOutcome) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      resolveOutcome(outcome);
    };
    const timer = clock.setTimeout(
      () =>
        finish({
          ok: false,
          errorType: ErrorType.timeout,
          errorMessage: `function "${loaded.spec.name}" timed out after ${timeoutMs} ms`,
        }),
      Math.max(0, delayMs),
    );
    try {
      start(finish);
    } catch (error) {
      finish(failure(error));
    }
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
