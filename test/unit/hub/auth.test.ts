// The principal authenticator: password kinds, certificate principals, anonymous access, permissions.

import { describe, expect, test } from "bun:test";
import { PrincipalAuthenticator } from "../../../src/hub/auth.ts";
import type { PrincipalConfig } from "../../../src/hub/config-principals.ts";
import type { AuthResult, Credentials } from "../../../src/hub/contracts.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const creds = (c: Partial<Credentials>): Credentials => ({
  clientId: "c",
  listener: "tcp://0.0.0.0:1883",
  ...c,
});

const argon = await Bun.password.hash("argon-pw");
const bcrypt = await Bun.password.hash("bcrypt-pw", { algorithm: "bcrypt", cost: 4 });

const principals: PrincipalConfig[] = [
  {
    username: "plain",
    password: "hahaha",
    permissions: [
      { action: "pub", permit: ["a/#", "b/+/c"] },
      { action: "sub", permit: ["a/+", "s/#"] },
    ],
  },
  { username: "argon", password: argon, permissions: [{ action: "pub", permit: ["#"] }] },
  { username: "bcrypt", password: bcrypt, permissions: [] },
  { username: "device", permissions: [{ action: "pub", permit: ["d/#"] }] },
  { username: "bound", cn: "sensor-7", permissions: [] },
];

function ok(result: AuthResult): string {
  if (!result.ok) throw new Error(`refused with ${result.returnCode}: ${result.reason}`);
  return result.principal.name;
}

function code(result: AuthResult): number {
  return result.ok ? 0 : result.returnCode;
}

describe("authenticator", () => {
  const auth = new PrincipalAuthenticator({ principals, anonymous: false });

  test("plain passwords", async () => {
    expect(ok(await auth.authenticate(creds({ username: "plain", password: enc("hahaha") })))).toBe("plain");
    expect(code(await auth.authenticate(creds({ username: "plain", password: enc("hahah") })))).toBe(4);
    expect(code(await auth.authenticate(creds({ username: "plain", password: enc("hahaha!") })))).toBe(4);
    expect(code(await auth.authenticate(creds({ username: "plain" })))).toBe(4);
  });

  test("argon2 and bcrypt hashes", async () => {
    expect(ok(await auth.authenticate(creds({ username: "argon", password: enc("argon-pw") })))).toBe(
      "argon",
    );
    expect(code(await auth.authenticate(creds({ username: "argon", password: enc("nope") })))).toBe(4);
    expect(ok(await auth.authenticate(creds({ username: "bcrypt", password: enc("bcrypt-pw") })))).toBe(
      "bcrypt",
    );
    expect(code(await auth.authenticate(creds({ username: "bcrypt", password: enc("x") })))).toBe(4);
  });

  test("unknown users get 4, no credentials get 5 [MQTT-3.2.2-3]", async () => {
    expect(code(await auth.authenticate(creds({ username: "who", password: enc("x") })))).toBe(4);
    expect(code(await auth.authenticate(creds({})))).toBe(5);
    expect(code(await auth.authenticate(creds({ password: enc("x") })))).toBe(4);
  });

  test("certificate principals need a verified certificate, and a bound CN must match", async () => {
    expect(code(await auth.authenticate(creds({ username: "device" })))).toBe(5);
    expect(
      ok(await auth.authenticate(creds({ username: "device", certificate: { subjectCN: "any" } }))),
    ).toBe("device");
    expect(
      code(await auth.authenticate(creds({ username: "bound", certificate: { subjectCN: "other" } }))),
    ).toBe(5);
    expect(
      ok(await auth.authenticate(creds({ username: "bound", certificate: { subjectCN: "sensor-7" } }))),
    ).toBe("bound");
  });

  test("without a username, a certificate names its principal by CN", async () => {
    expect(ok(await auth.authenticate(creds({ certificate: { subjectCN: "sensor-7" } })))).toBe("bound");
    expect(ok(await auth.authenticate(creds({ certificate: { subjectCN: "device" } })))).toBe("device");
    expect(code(await auth.authenticate(creds({ certificate: { subjectCN: "stranger" } })))).toBe(5);
    // a password principal is never proven by a certificate alone
    expect(code(await auth.authenticate(creds({ certificate: { subjectCN: "plain" } })))).toBe(5);
  });

  test("permissions: pub by topic, sub by filter within filter", async () => {
    const result = await auth.authenticate(creds({ username: "plain", password: enc("hahaha") }));
    if (!result.ok) throw new Error("refused");
    const p = result.principal;
    expect(p.canPublish("a")).toBe(true);
    expect(p.canPublish("a/x/y")).toBe(true);
    expect(p.canPublish("b/x/c")).toBe(true);
    expect(p.canPublish("b/x/d")).toBe(false);
    expect(p.canPublish("c")).toBe(false);
    expect(p.canSubscribe("a/x")).toBe(true);
    expect(p.canSubscribe("a/+")).toBe(true);
    expect(p.canSubscribe("a/#")).toBe(false);
    expect(p.canSubscribe("s/+/x/#")).toBe(true);
    expect(p.canSubscribe("#")).toBe(false);
    // memoised answers stay right
    expect(p.canPublish("b/x/d")).toBe(false);
    expect(p.canSubscribe("a/#")).toBe(false);
  });

  test("anonymous, when enabled, has every permission; named users are still checked", async () => {
    const open = new PrincipalAuthenticator({ principals, anonymous: true });
    const result = await open.authenticate(creds({}));
    if (!result.ok) throw new Error("refused");
    expect(result.principal.name).toBe("anonymous");
    expect(result.principal.canPublish("$SYS/x")).toBe(true);
    expect(result.principal.canSubscribe("#")).toBe(true);
    expect(code(await open.authenticate(creds({ username: "plain", password: enc("bad") })))).toBe(4);
  });
});
