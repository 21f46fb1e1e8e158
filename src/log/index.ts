// Public surface of logging.
export * from "./logger.ts";
export * from "./sinks.ts";
