// `openedge status`: is a master running on this work dir? (Exit 3 when not, as LSB init scripts do.)

import { workPaths } from "../master/paths.ts";
import { processAlive, readPidFile } from "../master/pid-lock.ts";
import type { Command } from "./context.ts";
import { resolveWorkDir, WORKDIR_FLAG } from "./workdir.ts";

export const statusCommand: Command = {
  spec: {
    name: "status",
    summary: "show whether the master runs on the work dir",
    usage: "openedge status [-w DIR]",
    flags: [WORKDIR_FLAG],
    maxPositionals: 0,
  },
  async run(args, ctx) {
    const workDir = resolveWorkDir(args, ctx);
    const pid = readPidFile(workPaths(workDir).pidFile);
    if (pid === null || !processAlive(pid)) {
      ctx.stdout(`openedge is not running (work dir ${workDir})\n`);
      return 3;
    }
    ctx.stdout(`openedge is running (pid ${pid}, work dir ${workDir})\n`);
    return 0;
  },
};
