// What a CLI command may touch of the outside world, handed in by main.ts so commands stay testable.

import type { CommandSpec, ParsedArgs } from "./args.ts";

export interface CliContext {
  argv: readonly string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** Absolute path of the running executable (the compiled openedge, or bun in development). */
  execPath: string;
  /** The script run by bun in development (src/main.ts); absent in a compiled executable. */
  scriptPath?: string;
  stdout(text: string): void;
  stderr(text: string): void;
  stdoutIsTTY: boolean;
}

export interface Command {
  spec: CommandSpec;
  /** Resolves to the process exit code. */
  run(args: ParsedArgs, ctx: CliContext): Promise<number>;
}
