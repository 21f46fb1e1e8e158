// `openedge check`: load and validate openedge.yml and application.yml; print `OK!` or every error.

import { ConfigError, describeIssue, type Issue } from "../config/index.ts";
import { isOpenEdgeError } from "../lib/errors.ts";
import { loadApplication, loadStaticConfig } from "./config-loading.ts";
import type { Command } from "./context.ts";
import { CONFIG_FLAG, resolveWorkDir, WORKDIR_FLAG } from "./workdir.ts";

export const checkCommand: Command = {
  spec: {
    name: "check",
    summary: "validate openedge.yml and application.yml; prints OK! or every error (exit 1)",
    usage: "openedge check [-w DIR] [-c FILE]",
    flags: [WORKDIR_FLAG, CONFIG_FLAG],
    maxPositionals: 0,
  },
  async run(args, ctx) {
    const workDir = resolveWorkDir(args, ctx);
    let failed = false;
    const steps = [() => loadStaticConfig(args, ctx, workDir), () => loadApplication(ctx, workDir)];
    for (const step of steps) {
      try {
        const { file, warnings } = step();
        for (const w of warnings) ctx.stderr(`warning: ${file}: ${w}\n`);
      } catch (err) {
        if (!isOpenEdgeError(err, "ERR_CONFIG")) throw err;
        failed = true;
        ctx.stderr(`${err.message}\n`);
        if (err instanceof ConfigError) {
          for (const w of err.details.warnings as Issue[]) ctx.stderr(`  warning: ${describeIssue(w)}\n`);
        }
      }
    }
    if (failed) return 1;
    ctx.stdout("OK!\n");
    return 0;
  },
};
