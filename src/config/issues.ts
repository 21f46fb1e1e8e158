// Validation findings: every error and warning names the YAML path and the rule it broke, and carries
// the line when known; ConfigError carries all of them so an operator fixes a file in one pass.

import { OpenEdgeError } from "../lib/errors.ts";

export interface Issue {
  /** YAML path such as `services[1].restart.policy`; empty for the document itself. */
  path: string;
  /** The rule, lowercase: `must be one of always, on-failure, no`. */
  message: string;
  /** 1-based line in the file, when known. */
  line?: number;
}

/** `path: message`, the stable form tests and the API compare. */
export function formatIssue(issue: Issue): string {
  return issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`;
}

/** `path: message (line N)`, for people. */
export function describeIssue(issue: Issue): string {
  return issue.line === undefined ? formatIssue(issue) : `${formatIssue(issue)} (line ${issue.line})`;
}

/** Collects findings while a document is read; reading never stops at the first one. */
export class Issues {
  readonly errors: Issue[] = [];
  readonly warnings: Issue[] = [];

  error(path: string, message: string, line?: number): void {
    this.errors.push(line === undefined ? { path, message } : { path, message, line });
  }

  warn(path: string, message: string, line?: number): void {
    this.warnings.push(line === undefined ? { path, message } : { path, message, line });
  }
}

export class ConfigError extends OpenEdgeError {
  /** Every error as `path: message`. */
  readonly issues: string[];
  readonly file: string;

  constructor(
    file: string,
    errors: readonly Issue[],
    options: { cause?: unknown; warnings?: readonly Issue[] } = {},
  ) {
    const count = errors.length === 1 ? "1 error" : `${errors.length} errors`;
    const lines = errors.map((e) => `\n  ${describeIssue(e)}`).join("");
    super("ERR_CONFIG", `invalid config file "${file}" (${count}):${lines}`, {
      cause: options.cause,
      details: {
        file,
        issues: errors.map((e) => ({ ...e })),
        warnings: (options.warnings ?? []).map((w) => ({ ...w })),
      },
    });
    this.name = "ConfigError";
    this.issues = errors.map(formatIssue);
    this.file = file;
  }
}
