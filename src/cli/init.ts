// `openedge init [DIR]`: write a ready work dir with the example application; existing files are kept
// unless --force.

import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { exampleWorkDir } from "../config/index.ts";
import type { Command } from "./context.ts";
import { resolveWorkDir, WORKDIR_FLAG } from "./workdir.ts";

export interface InitResult {
  written: string[];
  kept: string[];
}

export function writeExampleWorkDir(workDir: string, force: boolean): InitResult {
  const result: InitResult = { written: [], kept: [] };
  for (const file of exampleWorkDir()) {
    const path = join(workDir, file.path);
    if (existsSync(path) && !force) {
      result.kept.push(file.path);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content, { mode: file.mode ?? 0o644 });
    if (file.mode !== undefined) chmodSync(path, file.mode);
    result.written.push(file.path);
  }
  for (const dir of ["var/run/openedge", "var/log/openedge"])
    mkdirSync(join(workDir, dir), { recursive: true });
  return result;
}

export const initCommand: Command = {
  spec: {
    name: "init",
    summary: "write a ready work dir (configuration, example application and its volumes)",
    usage: "openedge init [DIR] [--force]",
    flags: [WORKDIR_FLAG, { name: "force", short: "f", help: "overwrite existing files" }],
    maxPositionals: 1,
  },
  async run(args, ctx) {
    const dir = args.positionals[0];
    const workDir = dir === undefined ? resolveWorkDir(args, ctx) : resolve(ctx.cwd, dir);
    const { written, kept } = writeExampleWorkDir(workDir, args.flags.has("force"));
    for (const p of written) ctx.stdout(`wrote ${p}\n`);
    for (const p of kept) ctx.stdout(`kept  ${p} (exists; --force overwrites)\n`);
    ctx.stdout(`work dir ready: ${workDir}\n`);
    return 0;
  },
};
