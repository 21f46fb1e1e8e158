import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemorySink, SinkLogger } from "../../../src/log/index.ts";
import { HOST_ID_FILE, resolveHostId } from "../../../src/probe/index.ts";
import { ROOTFS, type TempDir, tempDir } from "./fixture-paths.ts";

describe("host id", () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  test("/etc/machine-id first, lowercased", () => {
    expect(resolveHostId({ rootDir: ROOTFS, workDir: dir.path })).toEqual({
      id: "0123456789abcdef0123456789abcdef",
      source: "machine-id",
    });
  });

  test("then D-Bus's machine-id; an empty /etc/machine-id does not count", () => {
    const root = join(dir.path, "root");
    mkdirSync(join(root, "etc"), { recursive: true });
    mkdirSync(join(root, "var/lib/dbus"), { recursive: true });
    writeFileSync(join(root, "etc/machine-id"), "");
    writeFileSync(join(root, "var/lib/dbus/machine-id"), "fedcba9876543210fedcba9876543210\n");
    expect(resolveHostId({ rootDir: root, workDir: dir.path })).toEqual({
      id: "fedcba9876543210fedcba9876543210",
      source: "dbus-machine-id",
    });
  });

  test("else generated once under the work dir and the same on the next start", () => {
    const root = join(dir.path, "empty-root");
    const work = join(dir.path, "work");
    const sink = new MemorySink();
    const first = resolveHostId({ rootDir: root, workDir: work, log: new SinkLogger([sink]) });
    expect(first.source).toBe("generated");
    expect(first.id).toMatch(/^[0-9a-f]{32}$/);
    expect(readFileSync(join(work, HOST_ID_FILE), "utf8")).toBe(`${first.id}\n`);
    expect(sink.find("host_id_generated")).toBeDefined();
    expect(resolveHostId({ rootDir: root, workDir: work })).toEqual(first);
  });

  test("a work dir that cannot be written still yields an id, marked ephemeral", () => {
    // a regular file where a directory should be: mkdir fails even for root
    const work = join(dir.path, "not-a-dir");
    writeFileSync(work, "");
    const sink = new MemorySink();
    const id = resolveHostId({ rootDir: join(dir.path, "none"), workDir: work, log: new SinkLogger([sink]) });
    expect(id.source).toBe("ephemeral");
    expect(id.id).toMatch(/^[0-9a-f]{32}$/);
    expect(sink.find("host_id_not_persisted")?.level).toBe("warn");
  });
});
