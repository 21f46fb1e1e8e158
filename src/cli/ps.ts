// `openedge ps`: the instances the running master supervises, one line each (`--json` for the raw
// inspect services).

import { adminClient } from "./admin-client.ts";
import type { Command } from "./context.ts";
import { instanceViews, renderInstances } from "./inspect-view.ts";
import { CONFIG_FLAG, resolveWorkDir, WORKDIR_FLAG } from "./workdir.ts";

export const psCommand: Command = {
  spec: {
    name: "ps",
    summary: "list the running master's service instances",
    usage: "openedge ps [-w DIR] [--json]",
    flags: [WORKDIR_FLAG, CONFIG_FLAG, { name: "json", help: "print the services as JSON" }],
    maxPositionals: 0,
  },
  async run(args, ctx) {
    const workDir = resolveWorkDir(args, ctx);
    const inspect = await adminClient(args, ctx, workDir).json<Record<string, unknown>>(
      "GET",
      "/v1/system/inspect",
    );
    if (args.flags.has("json")) {
      ctx.stdout(`${JSON.stringify(inspect.services ?? [], null, 2)}\n`);
      return 0;
    }
    ctx.stdout(renderInstances(instanceViews(inspect, Date.now())));
    return 0;
  },
};
