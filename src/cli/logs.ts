// `openedge logs SERVICE [-f]`: a service's instance logs from the running master.

import { adminClient } from "./admin-client.ts";
import { flagString, UsageError } from "./args.ts";
import type { Command } from "./context.ts";
import { CONFIG_FLAG, resolveWorkDir, WORKDIR_FLAG } from "./workdir.ts";

export const logsCommand: Command = {
  spec: {
    name: "logs",
    summary: "print a service's instance logs (-f follows them)",
    usage: "openedge logs SERVICE [-w DIR] [-f] [-n LINES] [-i INSTANCE]",
    flags: [
      WORKDIR_FLAG,
      CONFIG_FLAG,
      { name: "follow", short: "f", help: "keep printing what is appended" },
      { name: "tail", short: "n", value: true, help: "lines from the end of each log (default 100)" },
      { name: "instance", short: "i", value: true, help: "only this instance" },
    ],
    maxPositionals: 1,
  },
  async run(args, ctx) {
    const service = args.positionals[0];
    if (service === undefined) throw new UsageError("name the service whose logs to print");
    const tail = flagString(args, "tail") ?? "100";
    if (!/^\d+$/.test(tail)) throw new UsageError(`--tail: "${tail}" is not a number of lines`);
    const query = new URLSearchParams({ tail });
    if (args.flags.has("follow")) query.set("follow", "1");
    const instance = flagString(args, "instance");
    if (instance !== undefined) query.set("instance", instance);
    const client = adminClient(args, ctx, resolveWorkDir(args, ctx));
    const res = await client.request("GET", `/v1/services/${encodeURIComponent(service)}/logs?${query}`);
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: string };
      ctx.stderr(`openedge logs: ${body.error ?? res.statusText}\n`);
      return 1;
    }
    if (res.body === null) return 0;
    const decoder = new TextDecoder();
    for await (const chunk of res.body) ctx.stdout(decoder.decode(chunk, { stream: true }));
    return 0;
  },
};
