// Loads the static (openedge.yml) and dynamic (application.yml) configuration for a command, from the
// `-c` file or the work dir's default location, with placeholders filled from the CLI's environment.

import { resolve } from "node:path";
import {
  type ApplicationConfig,
  loadApplicationConfig,
  loadOpenEdgeConfig,
  type OpenEdgeConfig,
} from "../config/index.ts";
import { workPaths } from "../master/paths.ts";
import { flagString, type ParsedArgs } from "./args.ts";
import type { CliContext } from "./context.ts";

export interface Loaded<T> {
  file: string;
  config: T;
  warnings: string[];
}

export function loadStaticConfig(args: ParsedArgs, ctx: CliContext, workDir: string): Loaded<OpenEdgeConfig> {
  const given = flagString(args, "config");
  const file = given === undefined ? workPaths(workDir).configFile : resolve(ctx.cwd, given);
  const { config, warnings } = loadOpenEdgeConfig(file, { env: ctx.env, workDir });
  return { file, config, warnings };
}

export function loadApplication(ctx: CliContext, workDir: string): Loaded<ApplicationConfig> {
  const file = workPaths(workDir).applicationFile;
  const { app, warnings } = loadApplicationConfig(file, { env: ctx.env, workDir });
  return { file, config: app, warnings };
}
