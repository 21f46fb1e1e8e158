// The compiled executable's CLI: version, usage errors, init, service unit, check.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binPath, cleanupAll, run, tempDir } from "./harness.ts";

afterAll(cleanupAll);

test("version names the version, the revision, bun and os/arch", async () => {
  const r = await run(["version"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^openedge \d+\.\d+\.\d+\n/);
  expect(r.stdout).toMatch(/revision: [0-9a-f]{7,}/);
  expect(r.stdout).toContain(`bun: ${Bun.version}`);
  expect(r.stdout).toContain(`os/arch: linux/${process.arch}`);
});

test("a reader that went away (| grep -q, | head) ends the output quietly, not in an EPIPE crash", async () => {
  const proc = Bun.spawn([binPath(), "--help"], { stdout: "pipe", stderr: "pipe" });
  await proc.stdout.cancel(); // the read end closes before the executable writes
  expect(await proc.exited).toBe(0);
  expect(await new Response(proc.stderr).text()).toBe("");
});

describe("usage errors exit 2 with usage", () => {
  test("an unknown command", async () => {
    const r = await run(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stderr).toContain("usage: openedge <command>");
  });
  test("no command at all", async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("commands:");
  });
  test("an unknown flag names the flag and shows the command's usage", async () => {
    const r = await run(["check", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown flag --bogus");
    expect(r.stderr).toContain("usage: openedge check");
  });
  test.each(["start", "stop", "status", "check", "init", "service", "version"])(
    "%s --help exits 0",
    async (cmd) => {
      const r = await run([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`usage: openedge ${cmd}`);
    },
  );
});

describe("init", () => {
  test("writes a work dir that check accepts, and keeps files unless --force", async () => {
    const wd = tempDir();
    const first = await run(["init", wd]);
    expect(first.code).toBe(0);
    expect(existsSync(join(wd, "etc/openedge/openedge.yml"))).toBe(true);
    expect(existsSync(join(wd, "var/db/openedge/application.yml"))).toBe(true);
    const check = await run(["check", "-w", wd]);
    expect(check.stderr).toBe("");
    expect(check.stdout).toBe("OK!\n");
    expect(check.code).toBe(0);

    const appFile = join(wd, "var/db/openedge/application.yml");
    writeFileSync(appFile, "services: []\n");
    const again = await run(["init", wd]);
    expect(again.stdout).toContain("kept  var/db/openedge/application.yml");
    expect(readFileSync(appFile, "utf8")).toBe("services: []\n");
    await run(["init", wd, "--force"]);
    expect(readFileSync(appFile, "utf8")).not.toBe("services: []\n");
  });
});

describe("service", () => {
  test("--dry-run prints a unit for this executable and work dir", async () => {
    const wd = tempDir();
    await run(["init", wd]);
    writeFileSync(join(wd, "etc/openedge/openedge.yml"), "grace: 45s\n");
    const r = await run(["service", "install", "-w", wd, "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(` start -w ${wd}\n`);
    expect(r.stdout).toContain("Restart=always\n");
    expect(r.stdout).toContain("KillMode=mixed\n");
    expect(r.stdout).toContain("TimeoutStopSec=60\n");
    expect(r.stdout).toContain("After=network-online.target docker.service\n");
  });

  test("install writes the unit where told, uninstall removes it", async () => {
    const wd = tempDir();
    const units = tempDir();
    const install = await run(["service", "install", "-w", wd, "--unit-dir", units, "--no-enable"]);
    expect(install.code).toBe(0);
    const unit = readFileSync(join(units, "openedge.service"), "utf8");
    expect(unit).toContain("TimeoutStopSec=45\n"); // default grace 30s + 15s margin
    const uninstall = await run(["service", "uninstall", "--unit-dir", units, "--no-enable"]);
    expect(uninstall.code).toBe(0);
    expect(existsSync(join(units, "openedge.service"))).toBe(false);
  });

  test("a missing action is a usage error", async () => {
    const r = await run(["service"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected "install" or "uninstall", got nothing');
  });
});

describe("check names the path and rule of each mistake in application.yml", () => {
  const base = (service: string) =>
    `services:\n${service}volumes:\n  - name: data\n    path: var/db/openedge/data\n`;
  test.each([
    [
      "a bad restart policy",
      base("  - name: a\n    image: x\n    restart: {policy: sometimes}\n"),
      "services[0].restart.policy: must be one of always, on-failure, no (line 4)",
    ],
    [
      "a volume name with a space",
      "volumes:\n  - name: bad name\n    path: var/x\n",
      "volumes[0].name: must match ^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$ (line 2)",
    ],
    [
      "a volume escaping the work dir",
      "volumes:\n  - name: v\n    path: ../../etc\n",
      "volumes[0].path: must stay inside the work dir (line 3)",
    ],
    [
      "a mount of an undeclared volume",
      base("  - name: a\n    image: x\n    mounts: [{name: nope, path: data}]\n"),
      'services[0].mounts[0].name: volume "nope" is not declared (line 4)',
    ],
    [
      "a negative replica",
      base("  - name: a\n    image: x\n    replica: -2\n"),
      "services[0].replica: must be an integer >= 0 (line 4)",
    ],
    [
      "a duplicate service",
      base("  - name: a\n    image: x\n  - name: a\n    image: y\n"),
      'services[1].name: "a" is already used by services[0] (line 4)',
    ],
    [
      "a bad duration",
      base("  - name: a\n    image: x\n    restart: {backoff: {max: soon}}\n"),
      "services[0].restart.backoff.max: must be a duration such as 500ms, 30s, 5m or 48h (line 4)",
    ],
  ])("%s", async (_name, yaml, expected) => {
    const wd = tempDir();
    await run(["init", wd]);
    writeFileSync(join(wd, "var/db/openedge/application.yml"), yaml);
    const r = await run(["check", "-w", wd]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`  ${expected}\n`);
  });

  test("a typo in a key is a warning naming the key, and check still passes", async () => {
    const wd = tempDir();
    await run(["init", wd]);
    writeFileSync(
      join(wd, "var/db/openedge/application.yml"),
      "services:\n  - name: a\n    image: x\n    replca: 2\n",
    );
    const r = await run(["check", "-w", wd]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("OK!\n");
    expect(r.stderr).toContain("services[0].replca: unknown key");
  });

  test("every error of a file is listed, not only the first", async () => {
    const wd = tempDir();
    await run(["init", wd]);
    writeFileSync(
      join(wd, "var/db/openedge/application.yml"),
      "services:\n  - name: a\n    replica: x\n    restart: {policy: z}\n",
    );
    const r = await run(["check", "-w", wd]);
    expect(r.stderr).toContain("(3 errors)");
    expect(r.stderr).toContain("services[0].image: is required");
  });
});
