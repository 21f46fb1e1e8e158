// The invocation protocol between a caller (the function manager's pool) and a runtime instance:
// beehive messages in packer frames over the instance's unix socket. Documented in PROTOCOL.md.

import { isAbsolute, resolve } from "node:path";
import { buildMessage, isMessage, type Message, responseTo } from "../beehive/index.ts";
import { OpenEdgeError } from "../lib/errors.ts";

/** route.operation of a call; answers use "response" or "error" (beehive's). */
export const OPERATION_INVOKE = "invoke";
export const OPERATION_RESPONSE = "response";
export const OPERATION_ERROR = "error";
/** route.resource and route.group of calls and answers. */
export const FUNCTION_RESOURCE = "function";
/** Env var naming the socket a runtime instance listens on. */
export const ADDRESS_ENV = "OPENEDGE_SERVICE_INSTANCE_ADDRESS";
/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the terminating NUL). */
export const MAX_SOCKET_PATH = 107;

/** What a call carries: the hub message and which function should handle it. */
export interface InvokeCall {
  /** The hub message's id (0 when it has none, e.g. QoS 0). */
  id: number;
  qos: number;
  topic: string;
  payload: Uint8Array;
  /** Milliseconds since the epoch when the message reached the hub. */
  timestamp: number;
  functionName: string;
  functionInvokeId: string;
  /** Optional per-call limit in ms; the runtime uses the smaller of it and the function's `timeout`. */
  timeout?: number;
}

/** A successful answer: the bytes to publish, or null when there is nothing to publish. */
export interface InvokeResult {
  payload: Uint8Array | null;
}

/** A failed call: OpenEdge's error fields. */
export interface InvokeError {
  errorType: string;
  errorMessage: string;
}

export type CallOutcome = ({ ok: true } & InvokeResult) | ({ ok: false } & InvokeError);

/** errorType values the runtimes produce themselves (a handler's own errors use their class name). */
export const ErrorType = {
  timeout: "TimeoutError",
  unknownFunction: "UnknownFunctionError",
  badRequest: "BadRequestError",
} as const;

export function buildCallMessage(call: InvokeCall, source = "function-manager"): Message<InvokeCall> {
  return buildMessage({
    source,
    destination: call.functionName,
    group: FUNCTION_RESOURCE,
    operation: OPERATION_INVOKE,
    resource: FUNCTION_RESOURCE,
    content: call,
    sync: true,
  });
}

export function resultAnswer(call: Message, payload: Uint8Array | null): Message<InvokeResult> {
  return responseTo(call, { payload }, { operation: OPERATION_RESPONSE });
}

export function errorAnswer(call: Message, error: InvokeError): Message<InvokeError> {
  return responseTo(
    call,
    { errorType: error.errorType, errorMessage: error.errorMessage },
    {
      operation: OPERATION_ERROR,
    },
  );
}

function badRequest(message: string): InvokeError {
  return { errorType: ErrorType.badRequest, errorMessage: message };
}

/** Validates an incoming call; an InvokeError (to answer with) when it is not a well-formed call. */
export function parseCall(msg: Message): InvokeCall | InvokeError {
  if (msg.route.operation !== OPERATION_INVOKE) {
    return badRequest(`unsupported operation "${msg.route.operation}" (expected "${OPERATION_INVOKE}")`);
  }
  const c = msg.content as Partial<Record<keyof InvokeCall, unknown>> | null;
  if (typeof c !== "object" || c === null) return badRequest("call content must be an object");
  if (typeof c.functionName !== "string" || c.functionName === "")
    return badRequest("call content.functionName must be a non-empty string");
  let payload: Uint8Array;
  if (c.payload instanceof Uint8Array) payload = c.payload;
  else if (typeof c.payload === "string") payload = Buffer.from(c.payload, "utf8");
  else if (c.payload === undefined || c.payload === null) payload = new Uint8Array(0);
  else return badRequest("call content.payload must be bytes");
  const timeout = typeof c.timeout === "number" && c.timeout > 0 ? c.timeout : undefined;
  return {
    id: typeof c.id === "number" ? c.id : 0,
    qos: typeof c.qos === "number" ? c.qos : 0,
    topic: typeof c.topic === "string" ? c.topic : "",
    payload,
    timestamp: typeof c.timestamp === "number" ? c.timestamp : 0,
    functionName: c.functionName,
    functionInvokeId: typeof c.functionInvokeId === "string" ? c.functionInvokeId : "",
    ...(timeout === undefined ? {} : { timeout }),
  };
}

export function isInvokeError(value: InvokeCall | InvokeError): value is InvokeError {
  return "errorType" in value;
}

/** The outcome an answer message carries; null when `msg` is not a well-formed answer. */
export function parseAnswer(msg: unknown): { parentId: string; outcome: CallOutcome } | null {
  if (!isMessage(msg)) return null;
  const c = msg.content as Record<string, unknown> | null;
  if (typeof c !== "object" || c === null) return null;
  if (msg.route.operation === OPERATION_ERROR) {
    return {
      parentId: msg.header.parentId,
      outcome: {
        ok: false,
        errorType: typeof c.errorType === "string" ? c.errorType : "Error",
        errorMessage:
          typeof c.errorMessage === "string"
            ? c.errorMessage
            : typeof c.message === "string"
              ? c.message
              : "",
      },
    };
  }
  if (msg.route.operation !== OPERATION_RESPONSE) return null;
  const p = c.payload;
  const payload = p instanceof Uint8Array ? p : typeof p === "string" ? Buffer.from(p, "utf8") : null;
  return { parentId: msg.header.parentId, outcome: { ok: true, payload } };
}

/**
 * The socket path of an instance address: `unix:///abs/path.sock` (absolute), `unix://rel.sock` or a
 * bare path (relative to `cwd`). Throws ERR_CONFIG for other schemes and paths too long for a socket.
 */
export function socketPathOf(address: string, cwd: string): string {
  const trimmed = address.trim();
  if (trimmed === "") throw new OpenEdgeError("ERR_CONFIG", `${ADDRESS_ENV} is empty`);
  let path = trimmed;
  if (trimmed.startsWith("unix://")) path = trimmed.slice("unix://".length);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new OpenEdgeError("ERR_CONFIG", `instance address "${address}" must be a unix:// socket path`, {
      details: { address },
    });
  }
  const abs = isAbsolute(path) ? resolve(path) : resolve(cwd, path);
  if (Buffer.byteLength(abs) > MAX_SOCKET_PATH) {
    throw new OpenEdgeError(
      "ERR_CONFIG",
      `socket path "${abs}" is longer than ${MAX_SOCKET_PATH} bytes (a unix socket limit)`,
      { details: { path: abs } },
    );
  }
  return abs;
}
