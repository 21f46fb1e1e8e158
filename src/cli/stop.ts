// `openedge stop`: ask the running master to shut down (SIGTERM to the pid in its pid file) and wait
// until it has gone.

import { parseDuration } from "../lib/units.ts";
import { workPaths } from "../master/paths.ts";
import { processAlive, readPidFile } from "../master/pid-lock.ts";
import { flagString, UsageError } from "./args.ts";
import type { Command } from "./context.ts";
import { resolveWorkDir, WORKDIR_FLAG } from "./workdir.ts";

export const stopCommand: Command = {
  spec: {
    name: "stop",
    summary: "stop the running master and wait for it to exit",
    usage: "openedge stop [-w DIR] [--timeout 60s]",
    flags: [
      WORKDIR_FLAG,
      { name: "timeout", short: "t", value: true, help: "how long to wait (default 60s)" },
    ],
    maxPositionals: 0,
  },
  async run(args, ctx) {
    const timeoutText = flagString(args, "timeout") ?? "60s";
    const timeoutMs = parseDuration(timeoutText);
    if (timeoutMs === null) throw new UsageError(`--timeout: "${timeoutText}" is not a duration`);
    const { pidFile } = workPaths(resolveWorkDir(args, ctx));
    const pid = readPidFile(pidFile);
    if (pid === null || !processAlive(pid)) {
      ctx.stderr(`openedge is not running (no live pid in ${pidFile})\n`);
      return 1;
    }
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + timeoutMs;
    while (processAlive(pid) && readPidFile(pidFile) === pid) {
      if (Date.now() > deadline) {
        ctx.stderr(`openedge (pid ${pid}) did not stop within ${timeoutText}\n`);
        return 1;
      }
      await Bun.sleep(50);
    }
    ctx.stdout(`openedge stopped (pid ${pid})\n`);
    return 0;
  },
};
