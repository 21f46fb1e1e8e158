// `openedge status`: is a master running on this work dir, and how are its services? (Exit 3 when no
// master runs, as LSB init scripts do.)

import { formatDuration } from "../lib/units.ts";
import { workPaths } from "../master/paths.ts";
import { processAlive, readPidFile } from "../master/pid-lock.ts";
import { adminClient } from "./admin-client.ts";
import type { Command } from "./context.ts";
import { instanceViews, renderInstances } from "./inspect-view.ts";
import { CONFIG_FLAG, resolveWorkDir, WORKDIR_FLAG } from "./workdir.ts";

export const statusCommand: Command = {
  spec: {
    name: "status",
    summary: "show whether the master runs, and a table of its services and instances",
    usage: "openedge status [-w DIR] [-c FILE]",
    flags: [WORKDIR_FLAG, CONFIG_FLAG],
    maxPositionals: 0,
  },
  async run(args, ctx) {
    const workDir = resolveWorkDir(args, ctx);
    const pid = readPidFile(workPaths(workDir).pidFile);
    if (pid === null || !processAlive(pid)) {
      ctx.stdout(`openedge is not running (work dir ${workDir})\n`);
      return 3;
    }
    const inspect = await adminClient(args, ctx, workDir).json<Record<string, unknown>>(
      "GET",
      "/v1/system/inspect",
    );
    const software = (inspect.software ?? {}) as Record<string, unknown>;
    const host = ((inspect.hardware ?? {}) as Record<string, Record<string, unknown>>).host_stats ?? {};
    ctx.stdout(`openedge is running (pid ${pid}, work dir ${workDir})\n`);
    ctx.stdout(
      `version ${String(software.bin_version)} (${String(software.git_revision)}), mode ${String(software.mode)}, ` +
        `application ${String(software.conf_version || "-")}, host up ${formatDuration(Number(host.uptime ?? 0) * 1000)}\n`,
    );
    if (typeof inspect.error === "string" && inspect.error !== "")
      ctx.stdout(`last update error: ${inspect.error}\n`);
    ctx.stdout("\n");
    ctx.stdout(renderInstances(instanceViews(inspect, Date.now())));
    return 0;
  },
};
