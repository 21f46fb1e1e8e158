// `openedge service install|uninstall`: a systemd unit for this executable and work dir.

import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import unitTemplate from "../../build/openedge.service" with { type: "text" };
import { flagString, UsageError } from "./args.ts";
import { loadStaticConfig } from "./config-loading.ts";
import type { CliContext, Command } from "./context.ts";
import { CONFIG_FLAG, resolveWorkDir, selfCommand, WORKDIR_FLAG } from "./workdir.ts";

/** systemd must wait longer than the master's own grace before it sends SIGKILL. */
const STOP_MARGIN_SEC = 15;

export function renderUnit(exec: string[], workDir: string, graceMs: number): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, "\\$1")}"`);
  return unitTemplate
    .replaceAll("{{EXEC}}", exec.map(quote).join(" "))
    .replaceAll("{{WORKDIR}}", quote(workDir))
    .replaceAll("{{TIMEOUT_STOP_SEC}}", String(Math.ceil(graceMs / 1000) + STOP_MARGIN_SEC));
}

function systemctl(ctx: CliContext, ...args: string[]): void {
  const r = Bun.spawnSync(["systemctl", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) ctx.stderr(`systemctl ${args.join(" ")} failed: ${r.stderr.toString().trim()}\n`);
}

export const serviceCommand: Command = {
  spec: {
    name: "service",
    summary:
      "write (install) or remove (uninstall) a systemd unit that runs this executable on the work dir;\n" +
      "install also runs `systemctl daemon-reload` and `systemctl enable --now` unless --no-enable",
    usage: "openedge service install|uninstall [-w DIR] [--dry-run] [--unit-dir DIR] [--name NAME]",
    flags: [
      WORKDIR_FLAG,
      CONFIG_FLAG,
      { name: "dry-run", help: "print the unit (or what would be removed) and change nothing" },
      { name: "unit-dir", value: true, help: "where units live (default /etc/systemd/system)" },
      { name: "name", value: true, help: "unit name (default openedge)" },
      { name: "no-enable", help: "write the unit only; do not call systemctl" },
    ],
    maxPositionals: 1,
  },
  async run(args, ctx) {
    const action = args.positionals[0];
    if (action !== "install" && action !== "uninstall") {
      throw new UsageError(
        `expected "install" or "uninstall", got ${action === undefined ? "nothing" : `"${action}"`}`,
      );
    }
    const workDir = resolveWorkDir(args, ctx);
    const name = flagString(args, "name") ?? "openedge";
    const unitPath = join(flagString(args, "unit-dir") ?? "/etc/systemd/system", `${name}.service`);
    const dryRun = args.flags.has("dry-run");
    const useSystemctl = !args.flags.has("no-enable") && Bun.which("systemctl") !== null;

    if (action === "uninstall") {
      if (dryRun) {
        ctx.stdout(`would remove ${unitPath}\n`);
        return 0;
      }
      if (useSystemctl) systemctl(ctx, "disable", "--now", `${name}.service`);
      if (!existsSync(unitPath)) {
        ctx.stdout(`${unitPath} does not exist; nothing to remove\n`);
        return 0;
      }
      rmSync(unitPath);
      if (useSystemctl) systemctl(ctx, "daemon-reload");
      ctx.stdout(`removed ${unitPath}\n`);
      return 0;
    }

    const { config } = loadStaticConfig(args, ctx, workDir);
    const unit = renderUnit(selfCommand(ctx), workDir, config.grace);
    if (dryRun) {
      ctx.stdout(unit);
      return 0;
    }
    mkdirSync(join(unitPath, ".."), { recursive: true });
    writeFileSync(unitPath, unit, { mode: 0o644 });
    ctx.stdout(`wrote ${unitPath}\n`);
    if (useSystemctl) {
      systemctl(ctx, "daemon-reload");
      systemctl(ctx, "enable", "--now", `${name}.service`);
      ctx.stdout(`enabled and started ${name}.service\n`);
    } else {
      ctx.stdout(`run: systemctl daemon-reload && systemctl enable --now ${name}.service\n`);
    }
    return 0;
  },
};
