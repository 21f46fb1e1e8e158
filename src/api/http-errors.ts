// The one place where errors become HTTP: typed error codes map to statuses, bodies are
// `{"error": message, "code": code}`.

import { type ErrorCode, errorMessage, isOpenEdgeError } from "../lib/errors.ts";

const STATUS: Partial<Record<ErrorCode, number>> = {
  ERR_BAD_REQUEST: 400,
  ERR_CONFIG: 400,
  ERR_USAGE: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_NOT_FOUND: 404,
  ERR_CONFLICT: 409,
  ERR_LOCKED: 409,
  ERR_TIMEOUT: 504,
};

export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export function errorResponse(err: unknown): Response {
  if (isOpenEdgeError(err)) {
    const body: Record<string, unknown> = { error: err.message, code: err.code };
    const issues = err.details.issues;
    if (Array.isArray(issues)) body.issues = issues;
    return jsonResponse(STATUS[err.code] ?? 500, body);
  }
  return jsonResponse(500, { error: errorMessage(err), code: "ERR_INTERNAL" });
}
