// `openedge version`: what this executable is and where it runs.

import { REVISION, VERSION } from "../version.ts";
import type { Command } from "./context.ts";

export const versionCommand: Command = {
  spec: {
    name: "version",
    summary: "print version, git revision, Bun version, os/arch",
    usage: "openedge version",
    flags: [],
    maxPositionals: 0,
  },
  async run(_args, ctx) {
    ctx.stdout(
      [
        `openedge ${VERSION}`,
        `revision: ${REVISION}`,
        `bun: ${Bun.version} (${Bun.revision.slice(0, 12)})`,
        `os/arch: ${process.platform}/${process.arch}`,
      ].join("\n") + "\n",
    );
    return 0;
  },
};
