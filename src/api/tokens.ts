// Per-service API credentials: a random token per service start, handed to the service in
// OPENEDGE_SERVICE_TOKEN, and the operator's token (user `openedge-admin`) written 0600 for the CLI.
// Comparison is constant-time over digests so neither content nor length leaks through timing.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const ADMIN_USER = "openedge-admin";

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

export class TokenStore {
  private readonly tokens = new Map<string, Buffer>();

  /** A fresh token for `name`, replacing any earlier one. */
  issue(name: string): string {
    const token = randomBytes(24).toString("base64url");
    this.tokens.set(name, digest(token));
    return token;
  }

  revoke(name: string): void {
    this.tokens.delete(name);
  }

  verify(name: string | null, token: string | null): boolean {
    // always hash and compare, known user or not, so unknown users take as long as wrong tokens
    const expected = (name !== null && this.tokens.get(name)) || digest("\0no-such-account\0");
    const ok = timingSafeEqual(expected, digest(token ?? ""));
    return ok && name !== null && token !== null && this.tokens.has(name);
  }
}
