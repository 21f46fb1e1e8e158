#!/usr/bin/env bun
// CLI entry: argv → one command in src/cli. Unknown commands and bad flags exit 2 with usage; typed
// errors print their message and exit 1.

import { writeSync } from "node:fs";
import { formatUsage, parseArgs, UsageError } from "./cli/args.ts";
import { checkCommand } from "./cli/check.ts";
import type { CliContext, Command } from "./cli/context.ts";
import { initCommand } from "./cli/init.ts";
import { logsCommand } from "./cli/logs.ts";
import { moduleCommand } from "./cli/module.ts";
import { psCommand } from "./cli/ps.ts";
import { serviceCommand } from "./cli/service.ts";
import { startCommand } from "./cli/start.ts";
import { statusCommand } from "./cli/status.ts";
import { stopCommand } from "./cli/stop.ts";
import { updateCommand } from "./cli/update.ts";
import { versionCommand } from "./cli/version.ts";
import { errorMessage, isOpenEdgeError } from "./lib/errors.ts";
import { isCompiled } from "./version.ts";

const COMMANDS: readonly Command[] = [
  startCommand,
  stopCommand,
  statusCommand,
  psCommand,
  logsCommand,
  updateCommand,
  checkCommand,
  initCommand,
  serviceCommand,
  moduleCommand,
  versionCommand,
];

function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  return [
    "usage: openedge <command> [flags]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary.split("\n")[0]}`),
    "",
    "`openedge <command> --help` shows a command's flags.",
  ].join("\n");
}

export async function runCli(ctx: CliContext): Promise<number> {
  const [name, ...rest] = ctx.argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    (name === undefined ? ctx.stderr : ctx.stdout)(`${mainUsage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v")
    return versionCommand.run({ flags: new Map(), positionals: [] }, ctx);
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    ctx.stderr(`openedge: unknown command "${name}"\n\n${mainUsage()}\n`);
    return 2;
  }
  try {
    const args = parseArgs(command.spec, rest);
    if (args.flags.has("help")) {
      ctx.stdout(`${formatUsage(command.spec)}\n`);
      return 0;
    }
    return await command.run(args, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.stderr(`openedge ${name}: ${err.message}\n\n${formatUsage(command.spec)}\n`);
      return 2;
    }
    if (isOpenEdgeError(err)) {
      ctx.stderr(`openedge ${name}: ${err.message}\n`);
      return 1;
    }
    ctx.stderr(`openedge ${name}: unexpected error: ${errorMessage(err)}\n`);
    if (err instanceof Error && err.stack) ctx.stderr(`${err.stack}\n`);
    return 1;
  }
}

/**
 * A synchronous writer to `fd` that stops quietly once the reader is gone (EPIPE: `openedge status |
 * grep -q running` closes the pipe at its first match); the command still ends with its own code.
 */
function writerTo(fd: number): (text: string) => void {
  let closed = false;
  return (text) => {
    if (closed) return;
    try {
      writeSync(fd, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EPIPE") throw error;
      closed = true;
    }
  };
}

if (import.meta.main) {
  const compiled = isCompiled();
  // no top-level await: the compiled executable is built with --bytecode, which needs none
  void runCli({
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    execPath: process.execPath,
    ...(compiled ? {} : { scriptPath: Bun.main }),
    // synchronous writes: process.exit must not cut a usage text or an error short
    stdout: writerTo(1),
    stderr: writerTo(2),
    stdoutIsTTY: process.stdout.isTTY === true,
  }).then((code) => process.exit(code));
}
