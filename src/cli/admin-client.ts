// The CLI's way into a running master: the API address from openedge.yml and the operator token the
// master wrote (0600) to var/run/openedge/admin.token. Whoever can read that file administers the device.

import { readFileSync } from "node:fs";
import { ADMIN_USER, ApiClient } from "../api/index.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import { workPaths } from "../master/paths.ts";
import type { ParsedArgs } from "./args.ts";
import { loadStaticConfig } from "./config-loading.ts";
import type { CliContext } from "./context.ts";

export function adminClient(args: ParsedArgs, ctx: CliContext, workDir: string): ApiClient {
  const { config } = loadStaticConfig(args, ctx, workDir);
  const tokenFile = workPaths(workDir).adminTokenFile;
  let token: string;
  try {
    token = readFileSync(tokenFile, "utf8").trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "EACCES" ? "permission denied (run as the user the master runs as)" : "is the master running?";
    throw new OpenEdgeError("ERR_UNAUTHORIZED", `cannot read the admin token ${tokenFile}: ${why}`, {
      cause: err,
    });
  }
  return new ApiClient(config.server.endpoint, { username: ADMIN_USER, password: token });
}
