// Constructors of the typed errors the bus raises, so every transport reports a failure alike.

import { type ErrorCode, OpenEdgeError } from "../lib/errors.ts";

export function unknownModule(module: string): OpenEdgeError {
  return new OpenEdgeError("ERR_UNKNOWN_MODULE", `unknown module "${module}"`, { details: { module } });
}

export function contextClosed(what = "bus context"): OpenEdgeError {
  return new OpenEdgeError("ERR_CLOSED", `${what} is closed`);
}

export function queueFull(module: string, capacity: number): OpenEdgeError {
  return new OpenEdgeError("ERR_QUEUE_FULL", `queue of module "${module}" is full`, {
    details: { module, capacity },
  });
}

export function moduleCleanedUp(module: string): OpenEdgeError {
  return new OpenEdgeError("ERR_CLOSED", `module "${module}" was cleaned up`, { details: { module } });
}

const WIRE_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  "ERR_CONFIG",
  "ERR_USAGE",
  "ERR_LOCKED",
  "ERR_NOT_FOUND",
  "ERR_IO",
  "ERR_TIMEOUT",
  "ERR_CLOSED",
  "ERR_QUEUE_FULL",
  "ERR_UNKNOWN_MODULE",
  "ERR_FRAME",
  "ERR_UNAUTHORIZED",
  "ERR_BAD_REQUEST",
  "ERR_CONFLICT",
  "ERR_ENGINE",
  "ERR_INTERNAL",
]);

/** An error code read off the wire, kept only when it is one of ours. */
export function wireErrorCode(code: unknown): ErrorCode {
  return typeof code === "string" && WIRE_CODES.has(code) ? (code as ErrorCode) : "ERR_INTERNAL";
}
