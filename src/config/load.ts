// Entry points: config text or file → resolved config plus warnings, or a ConfigError listing every
// problem. The environment comes from the caller (only cli/ reads process.env).

import { readFileSync } from "node:fs";
import { type ApplicationConfig, readApplicationConfig } from "./application-config.ts";
import { ConfigError, formatIssue, type Issue, Issues } from "./issues.ts";
import { type OpenEdgeConfig, readOpenEdgeConfig } from "./openedge-config.ts";
import { MapReader } from "./schema-helpers.ts";
import type { EnvMap } from "./template.ts";
import { parseYamlTree } from "./yaml-tree.ts";

export interface ConfigOptions {
  /** Fills `{{.NAME}}` placeholders; an unset name is an error. */
  env: EnvMap;
  /** Relative paths in the file resolve against it. */
  workDir: string;
  /** Names the source in errors (defaults to the file path, or a generic name for text). */
  file?: string;
}

export interface Parsed<T> {
  value: T;
  /** `path: message` for every warning (unknown keys and the like). */
  warnings: string[];
  /** The same warnings with their line numbers. */
  issues: Issue[];
}

/**
 * Reads a document with `read` and returns its value, or throws ConfigError with every error.
 * Other components' config files (service.yml) use this with their own reader.
 */
export function parseConfigText<T>(
  text: string,
  options: { env: EnvMap; file: string },
  read: (r: MapReader) => T,
): Parsed<T> {
  const issues = new Issues();
  const tree = parseYamlTree(text, options.env, issues);
  const reader = new MapReader(tree, "", issues);
  const value = read(reader);
  reader.done();
  const warnings = byLine(issues.warnings);
  if (issues.errors.length > 0) throw new ConfigError(options.file, byLine(issues.errors), { warnings });
  return { value, warnings: warnings.map(formatIssue), issues: warnings };
}

/** Issues in file order (those without a line last), keeping the reading order among equals. */
function byLine(issues: readonly Issue[]): Issue[] {
  return [...issues].sort(
    (a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER),
  );
}

export function parseOpenEdgeConfig(
  text: string,
  options: ConfigOptions,
): { config: OpenEdgeConfig; warnings: string[] } {
  const file = options.file ?? "openedge.yml";
  const { value, warnings } = parseConfigText(text, { env: options.env, file }, (r) =>
    readOpenEdgeConfig(r, options.workDir),
  );
  return { config: value, warnings };
}

export function parseApplicationConfig(
  text: string,
  options: ConfigOptions,
): { app: ApplicationConfig; warnings: string[] } {
  const file = options.file ?? "application.yml";
  const { value, warnings } = parseConfigText(text, { env: options.env, file }, (r) =>
    readApplicationConfig(r, options.workDir),
  );
  return { app: value, warnings };
}

/** openedge.yml from disk; a missing file gives every default. */
export function loadOpenEdgeConfig(
  file: string,
  options: ConfigOptions,
): { config: OpenEdgeConfig; warnings: string[] } {
  return parseOpenEdgeConfig(readConfigFile(file), { ...options, file: options.file ?? file });
}

/** application.yml from disk; a missing file gives an application with no services. */
export function loadApplicationConfig(
  file: string,
  options: ConfigOptions,
): { app: ApplicationConfig; warnings: string[] } {
  return parseApplicationConfig(readConfigFile(file), { ...options, file: options.file ?? file });
}

/** The file's text; "" when it does not exist; ConfigError when it cannot be read. */
export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(file, [{ path: "", message: `cannot read the file: ${reason}` }], { cause: err });
  }
}
