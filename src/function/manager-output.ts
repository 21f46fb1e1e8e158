// What a rule publishes for a call: the result payload as it came (nothing for an empty one), or
// OpenEdge's error object `{functionMessage: {…input, Payload base64}, errorMessage, errorType}`.

import { isOpenEdgeError } from "../lib/errors.ts";
import type { CallOutcome, InvokeCall, InvokeError } from "./protocol.ts";
import { ErrorType } from "./protocol.ts";

/** errorType of a call that could not be run (no instance, the instance crashed). */
export const INVOCATION_ERROR = "InvocationError";
/** errorType of an input over `message.length.max`. */
export const MESSAGE_TOO_LARGE = "MessageTooLargeError";

/** The bytes to publish for an outcome; null publishes nothing. */
export function outputOf(call: InvokeCall, outcome: CallOutcome): Uint8Array | null {
  if (!outcome.ok) return errorObject(call, outcome);
  return outcome.payload === null || outcome.payload.length === 0 ? null : outcome.payload;
}

/** OpenEdge's error message, as JSON bytes. */
export function errorObject(call: InvokeCall, error: InvokeError): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      functionMessage: {
        ID: call.id,
        QOS: call.qos,
        Topic: call.topic,
        Payload: Buffer.from(call.payload).toString("base64"),
        Timestamp: call.timestamp,
        FunctionName: call.functionName,
        FunctionInvokeID: call.functionInvokeId,
      },
      errorMessage: error.errorMessage,
      errorType: error.errorType,
    }),
  );
}

/** The error fields for a call the pool could not complete. */
export function invocationError(error: unknown): InvokeError {
  const message = error instanceof Error ? error.message : String(error);
  if (isOpenEdgeError(error, "ERR_TIMEOUT")) return { errorType: ErrorType.timeout, errorMessage: message };
  return { errorType: INVOCATION_ERROR, errorMessage: message };
}
