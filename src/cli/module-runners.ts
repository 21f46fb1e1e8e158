// The modules `openedge module NAME` can run, listed explicitly (no self-registration on import). Each
// runner resolves to the process exit code. Add one line per module.

import type { ParsedArgs } from "./args.ts";
import type { CliContext } from "./context.ts";

export interface ModuleRunContext {
  ctx: CliContext;
  workDir: string;
  args: ParsedArgs;
}

export type ModuleRunner = (run: ModuleRunContext) => Promise<number>;

export const MODULE_RUNNERS: Record<string, ModuleRunner> = {
  "function-node": async (run) => (await import("../function/runtime-node.ts")).runNodeRuntime(run),
  "function-python3": async (run) => (await import("../function/runtime-python3.ts")).runPython3Runtime(run),
  hub: async (run) => (await import("../hub/module-process.ts")).runHubProcess(run),
};
