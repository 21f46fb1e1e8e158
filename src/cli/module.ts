// `openedge module NAME`: run one built-in module as a child process of the master — a function
// runtime instance, or a built-in service with `isolation: process`. The engine starts it with the
// instance's environment (OPENEDGE_*); the runner for NAME does the rest.

import { UsageError } from "./args.ts";
import type { CliContext, Command } from "./context.ts";
import { MODULE_RUNNERS } from "./module-runners.ts";
import { CONFIG_FLAG, resolveWorkDir, WORKDIR_FLAG } from "./workdir.ts";

export const moduleCommand: Command = {
  spec: {
    name: "module",
    summary: "run a built-in module as a child process (started by the master's engine)",
    usage: `openedge module NAME [-w DIR]   (NAME: ${Object.keys(MODULE_RUNNERS).join(", ") || "none yet"})`,
    flags: [WORKDIR_FLAG, CONFIG_FLAG],
    maxPositionals: 1,
  },
  async run(args, ctx: CliContext) {
    const raw = args.positionals[0];
    if (raw === undefined) throw new UsageError("name the module to run");
    // the engine passes the built-in image name (openedge-function-python3); accept the short one too
    const name = raw.replace(/^openedge-/, "");
    const runner = MODULE_RUNNERS[name];
    if (runner === undefined) {
      throw new UsageError(
        `unknown module "${raw}"; known: ${Object.keys(MODULE_RUNNERS).join(", ") || "none yet"}`,
      );
    }
    return runner({ ctx, workDir: resolveWorkDir(args, ctx), args });
  },
};
