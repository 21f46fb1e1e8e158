// Built-in modules the master starts without this executable in between (a runner's own start-up
// would be part of every cold start of the instance).

import { type DirectLaunch, directPython3Launch } from "../function/runtime-python3.ts";

/**
 * Modules the master may start directly, given the instance dir and environment; null means "start
 * the runner" (it reports what is wrong in the instance's log).
 */
export const DIRECT_LAUNCHERS: Record<
  string,
  (dir: string, env: Readonly<Record<string, string>>, workDir: string) => DirectLaunch | null
> = {
  "function-python3": directPython3Launch,
};

/**
 * Built-ins run by this executable that start no process of their own while they start: without
 * limits they may join their accounting cgroups after the start (see the engine's BuiltinLaunch).
 */
export const STARTS_NOTHING_WHILE_STARTING: ReadonlySet<string> = new Set(["openedge-function-node"]);
