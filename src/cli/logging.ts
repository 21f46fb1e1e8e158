// Builds the master's logger from openedge.yml's `logger` section: a rotating file, plus the console
// when attached to a terminal or run by systemd (journald reads stdout). Console lines are JSON unless
// stdout is a terminal, so tools and tests can read events back.

import { fstatSync } from "node:fs";
import type { OpenEdgeConfig } from "../config/index.ts";
import { ConsoleSink, FileSink, type Logger, type LogSink, SinkLogger } from "../log/index.ts";
import type { CliContext } from "./context.ts";

const DAY_MS = 86_400_000;

export interface MasterLogging {
  log: Logger;
  close(): void;
}

/**
 * auto: a terminal, systemd (journald) or a parent reading a pipe gets console lines; stdout sent to
 * /dev/null or to a regular file does not (the log file already has them).
 */
function consoleWanted(setting: OpenEdgeConfig["logger"]["console"], ctx: CliContext): boolean {
  if (setting === true || setting === false) return setting;
  if (ctx.stdoutIsTTY || ctx.env.INVOCATION_ID !== undefined || ctx.env.JOURNAL_STREAM !== undefined)
    return true;
  try {
    const st = fstatSync(1);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

export function buildMasterLogging(config: OpenEdgeConfig, ctx: CliContext): MasterLogging {
  const { logger } = config;
  const sinks: LogSink[] = [];
  sinks.push(
    new FileSink(
      {
        path: logger.file,
        maxBytes: logger.size.max,
        keep: logger.backup.max,
        maxAgeMs: logger.age.max * DAY_MS,
      },
      logger.format,
    ),
  );
  if (consoleWanted(logger.console, ctx)) sinks.push(new ConsoleSink(ctx.stdoutIsTTY ? "text" : "json"));
  return {
    log: new SinkLogger(sinks, logger.level),
    close: () => {
      for (const s of sinks) s.close?.();
    },
  };
}
