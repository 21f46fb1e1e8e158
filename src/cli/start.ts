// `openedge start`: run the master in the foreground (systemd style); the assembly is in start-master.ts.

import type { Command } from "./context.ts";
import { CONFIG_FLAG, WORKDIR_FLAG } from "./workdir.ts";

export const startCommand: Command = {
  spec: {
    name: "start",
    summary: "run the master in the foreground until SIGTERM/SIGINT",
    usage: "openedge start [-w DIR] [-c FILE] [--init]",
    flags: [
      WORKDIR_FLAG,
      CONFIG_FLAG,
      { name: "init", help: "write the example work dir first when the work dir has no configuration" },
    ],
    maxPositionals: 0,
  },
  async run(args, ctx) {
    return (await import("./start-master.ts")).runMaster(args, ctx);
  },
};
