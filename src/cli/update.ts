// `openedge update FILE`: hand a new application.yml to the running master; it validates it, restarts
// only what changed and rolls back when a new service fails to come up.

import { resolve } from "node:path";
import { adminClient } from "./admin-client.ts";
import { flagString, UsageError } from "./args.ts";
import type { Command } from "./context.ts";
import { CONFIG_FLAG, resolveWorkDir, WORKDIR_FLAG } from "./workdir.ts";

export const updateCommand: Command = {
  spec: {
    name: "update",
    summary: "apply a new application.yml to the running master (rolled back if it fails)",
    usage: "openedge update FILE [-w DIR] [--trace ID]",
    flags: [WORKDIR_FLAG, CONFIG_FLAG, { name: "trace", value: true, help: "trace id written to ota.log" }],
    maxPositionals: 1,
  },
  async run(args, ctx) {
    const file = args.positionals[0];
    if (file === undefined) throw new UsageError("name the new application.yml");
    const trace = flagString(args, "trace") ?? `cli-${Date.now()}`;
    const client = adminClient(args, ctx, resolveWorkDir(args, ctx));
    await client.json("PUT", "/v1/system/update", { type: "APP", path: resolve(ctx.cwd, file), trace });
    ctx.stdout(`updated (trace ${trace})\n`);
    return 0;
  },
};
