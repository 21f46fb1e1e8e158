// The log of a runtime instance: JSON lines on stderr, which the engine writes to the instance log.

import { ConsoleSink, LOG_LEVELS, type Logger, type LogLevel, SinkLogger } from "../log/index.ts";

export function runtimeLogger(level: string | undefined, fields: Record<string, unknown>): Logger {
  const min = LOG_LEVELS.find((l) => l === level) ?? ("info" satisfies LogLevel);
  return new SinkLogger([new ConsoleSink("json", 2)], min).child(fields);
}
