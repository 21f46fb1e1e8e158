// What the benchmarks share: the host executable (built when missing) and a master started on a work
// dir whose JSON log lines can be awaited (the e2e harness's RunningMaster).

import { existsSync } from "node:fs";
import { join } from "node:path";
import { RunningMaster } from "../e2e/harness.ts";

const root = join(import.meta.dir, "../..");

/** The host's executable in dist/, built first when missing. */
export function ensureBuilt(): string {
  const bin = join(root, process.arch === "arm64" ? "dist/openedge-linux-arm64" : "dist/openedge-linux-x64");
  if (existsSync(bin)) return bin;
  const r = Bun.spawnSync([process.execPath, "build/compile.ts", "--host"], {
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  });
  if (r.exitCode !== 0 || !existsSync(bin)) throw new Error("build failed");
  return bin;
}

/** `bin start -w wd` with extra environment, its log lines collected. */
export function spawnMaster(bin: string, wd: string, env: Record<string, string> = {}): RunningMaster {
  const proc = Bun.spawn([bin, "start", "-w", wd], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  return new RunningMaster(proc);
}
