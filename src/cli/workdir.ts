// Which work dir a command acts on: `-w DIR`, else the parent of the executable's folder
// (`<wd>/bin/openedge`, as OpenEdge did), else — when run from source — the current directory.

import { dirname, resolve } from "node:path";
import { type FlagSpec, flagString, type ParsedArgs } from "./args.ts";
import type { CliContext } from "./context.ts";

export const WORKDIR_FLAG: FlagSpec = {
  name: "workdir",
  short: "w",
  value: true,
  help: "work dir (default: parent of the executable's folder)",
};

export const CONFIG_FLAG: FlagSpec = {
  name: "config",
  short: "c",
  value: true,
  help: "openedge.yml (default: <workdir>/etc/openedge/openedge.yml)",
};

export function resolveWorkDir(args: ParsedArgs, ctx: CliContext): string {
  const given = flagString(args, "workdir");
  if (given !== undefined) return resolve(ctx.cwd, given);
  if (ctx.scriptPath !== undefined) return ctx.cwd;
  return dirname(dirname(ctx.execPath));
}

/** The command line that re-runs this same openedge (compiled executable, or bun + script). */
export function selfCommand(ctx: CliContext): string[] {
  return ctx.scriptPath === undefined ? [ctx.execPath] : [ctx.execPath, ctx.scriptPath];
}
