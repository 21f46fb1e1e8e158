// Build identity: version from package.json, git revision stamped by build/compile.ts via --define.

import pkg from "../package.json" with { type: "json" };

declare const OPENEDGE_REVISION: string | undefined;

export const VERSION: string = pkg.version;
export const REVISION: string = typeof OPENEDGE_REVISION === "string" ? OPENEDGE_REVISION : "dev";

/** True inside a `bun build --compile` executable (its modules live under /$bunfs/). */
export function isCompiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/");
}
