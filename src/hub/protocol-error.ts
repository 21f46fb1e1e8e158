// The one error type the protocol core throws for a client's protocol violation; the connection
// turns it into "close this connection only" (after publishing the will).

import { OpenEdgeError } from "../lib/errors.ts";

export class ProtocolError extends OpenEdgeError {
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super("ERR_BAD_REQUEST", `mqtt protocol violation: ${reason}`, { details: { reason, ...details } });
  }
}
