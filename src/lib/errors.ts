// Typed errors: every failure that crosses a boundary carries a code from this union, so each edge
// (CLI exit code, HTTP status, CONNACK, bus error response) maps it in one place.

export type ErrorCode =
  | "ERR_CONFIG"
  | "ERR_USAGE"
  | "ERR_LOCKED"
  | "ERR_NOT_FOUND"
  | "ERR_IO"
  | "ERR_TIMEOUT"
  | "ERR_CLOSED"
  | "ERR_QUEUE_FULL"
  | "ERR_UNKNOWN_MODULE"
  | "ERR_FRAME"
  | "ERR_UNAUTHORIZED"
  | "ERR_BAD_REQUEST"
  | "ERR_CONFLICT"
  | "ERR_ENGINE"
  | "ERR_INTERNAL";

export interface OpenEdgeErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class OpenEdgeError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: OpenEdgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "OpenEdgeError";
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isOpenEdgeError(value: unknown, code?: ErrorCode): value is OpenEdgeError {
  return value instanceof OpenEdgeError && (code === undefined || value.code === code);
}

/** The message of anything thrown, for logs and error responses. */
export function errorMessage(value: unknown): string {
  if (value instanceof Error) return value.message;
  return String(value);
}
