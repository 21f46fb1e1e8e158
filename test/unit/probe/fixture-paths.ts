// Where the probe fixture trees live, and a throwaway dir maker for tests that write files.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const FIXTURES = join(import.meta.dir, "../../fixtures/probe");
export const PROC = join(FIXTURES, "proc");
export const SYS = join(FIXTURES, "sys");
export const ROOTFS = join(FIXTURES, "rootfs");

export interface TempDir {
  path: string;
  remove(): void;
}

export function tempDir(prefix = "openedge-probe-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
