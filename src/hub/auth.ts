// The hub's Authenticator over service.yml principals: passwords (plain, compared in constant time, or
// Bun.password/bcrypt/argon2 hashes), certificate principals proven by a verified client certificate,
// and the anonymous principal when enabled. CONNACK 4 = bad username or password, 5 = not authorised.

import { createHash, timingSafeEqual } from "node:crypto";
import { PermitPrincipal } from "./auth-principal.ts";
import type { PrincipalConfig } from "./config-principals.ts";
import { isPasswordHash } from "./config-principals.ts";
import type { Authenticator, AuthResult, Credentials, Principal } from "./contracts.ts";

export const ANONYMOUS = "anonymous";

export interface AuthOptions {
  principals: readonly PrincipalConfig[];
  /** Admit clients that present no credentials, with every permission. */
  anonymous: boolean;
}

interface Account {
  config: PrincipalConfig;
  principal: Principal;
  /** Plain passwords as bytes; hashes stay strings for Bun.password.verify. */
  plain?: Uint8Array;
}

const everything: Principal = {
  name: ANONYMOUS,
  canPublish: () => true,
  canSubscribe: () => true,
};

export class PrincipalAuthenticator implements Authenticator {
  private readonly accounts = new Map<string, Account>();
  private readonly anonymous: boolean;

  constructor(options: AuthOptions) {
    this.anonymous = options.anonymous;
    for (const config of options.principals) {
      const account: Account = { config, principal: new PermitPrincipal(config) };
      if (config.password !== undefined && !isPasswordHash(config.password))
        account.plain = new TextEncoder().encode(config.password);
      this.accounts.set(config.username, account);
    }
  }

  async authenticate(credentials: Credentials): Promise<AuthResult> {
    if (credentials.username === undefined) return this.withoutUsername(credentials);
    const account = this.accounts.get(credentials.username);
    if (account === undefined) return refuse(4, "unknown username");
    const { config } = account;
    if (config.password === undefined) return this.byCertificate(account, credentials);
    const given = credentials.password;
    if (given === undefined) return refuse(4, "password missing");
    const ok =
      account.plain !== undefined
        ? constantTimeEqual(given, account.plain)
        : await verifyHash(given, config.password);
    return ok ? { ok: true, principal: account.principal } : refuse(4, "wrong password");
  }

  /** A certificate principal: the listener verified the certificate; its CN may be bound. */
  private byCertificate(account: Account, credentials: Credentials): AuthResult {
    const cert = credentials.certificate;
    if (cert === undefined) return refuse(5, "certificate principal without a verified client certificate");
    const cn = account.config.cn;
    if (cn !== undefined && cert.subjectCN !== cn) return refuse(5, "client certificate CN does not match");
    return { ok: true, principal: account.principal };
  }

  /**
   * No username: a verified certificate names its principal by CN (bound `cn`, else the username),
   * then anonymous access if enabled.
   */
  private withoutUsername(credentials: Credentials): AuthResult {
    if (credentials.password !== undefined) return refuse(4, "password without username"); // [MQTT-3.1.2-22]
    const cn = credentials.certificate?.subjectCN;
    if (cn !== undefined) {
      for (const account of this.accounts.values()) {
        const { config } = account;
        if (config.password === undefined && (config.cn ?? config.username) === cn)
          return { ok: true, principal: account.principal };
      }
    }
    if (this.anonymous) return { ok: true, principal: everything };
    return refuse(5, "anonymous access is disabled");
  }
}

function refuse(returnCode: 4 | 5, reason: string): AuthResult {
  return { ok: false, returnCode, reason };
}

/** Equal-length digests, so neither the content nor the length of the secret leaks through timing. */
function constantTimeEqual(given: Uint8Array, expected: Uint8Array): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

async function verifyHash(given: Uint8Array, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(given, hash);
  } catch {
    // a malformed hash in service.yml admits nobody
    return false;
  }
}
