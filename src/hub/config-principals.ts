// service.yml `principals`: accounts with a password (plain or a Bun.password/bcrypt/argon2 hash) and
// certificate principals (no password: a verified TLS client certificate proves them, optionally
// bound to the certificate's CN), each with publish/subscribe permits by topic filter.

import { type MapReader, RULES } from "../config/index.ts";
import { filterProblem } from "./auth-filters.ts";

export type PermissionAction = "pub" | "sub";
const ACTIONS: readonly PermissionAction[] = ["pub", "sub"];

export interface PermissionConfig {
  action: PermissionAction;
  permit: string[];
}

export interface PrincipalConfig {
  username: string;
  /** Plain text or a hash; absent for certificate principals. */
  password?: string;
  /** Certificate principals only: the client certificate's subject CN must equal this. */
  cn?: string;
  permissions: PermissionConfig[];
}

/** Hash formats Bun.password.verify understands; anything else is a plain password. */
export function isPasswordHash(password: string): boolean {
  return /^\$argon2(id|i|d)\$/.test(password) || /^\$2[aby]\$\d\d\$/.test(password);
}

export function readPrincipals(r: MapReader): PrincipalConfig[] {
  const seen = new Map<string, number>();
  return r.objects("principals", (p, index) => {
    const username = p.string("username", { required: true });
    const first = seen.get(username);
    if (username !== "" && first !== undefined)
      p.error("username", `duplicates principals[${first}].username`);
    else seen.set(username, index);
    const password = p.string("password");
    const cn = p.string("cn");
    if (cn !== undefined && password !== undefined)
      p.error("cn", "only certificate principals (without password) are bound to a certificate CN");
    const permissions = p.objects("permissions", (perm) => {
      const action = perm.string("action", { required: true });
      if (action !== "" && action !== "pub" && action !== "sub") perm.error("action", RULES.oneOf(ACTIONS));
      return {
        action: action === "sub" ? "sub" : "pub",
        permit: perm.strings("permit", { check: filterProblem }),
      };
    }) satisfies PermissionConfig[];
    const out: PrincipalConfig = { username, permissions };
    if (password !== undefined) out.password = password;
    if (cn !== undefined) out.cn = cn;
    return out;
  });
}
