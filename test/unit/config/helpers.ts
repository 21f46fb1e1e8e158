// Shared helpers of the config tests: parse text and return either the value or every issue.

import { expect } from "bun:test";
import {
  type ApplicationConfig,
  ConfigError,
  type OpenEdgeConfig,
  parseApplicationConfig,
  parseOpenEdgeConfig,
} from "../../../src/config/index.ts";

export const WORK = "/srv/edge";

export function app(
  text: string,
  env: Record<string, string> = {},
): { app: ApplicationConfig; warnings: string[] } {
  return parseApplicationConfig(text, { env, workDir: WORK });
}

export function openedge(
  text: string,
  env: Record<string, string> = {},
): { config: OpenEdgeConfig; warnings: string[] } {
  return parseOpenEdgeConfig(text, { env, workDir: WORK });
}

/** The ConfigError a parse throws. */
export function configError(parse: () => unknown): ConfigError {
  try {
    parse();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

export function appErrors(text: string, env: Record<string, string> = {}): string[] {
  return configError(() => app(text, env)).issues;
}

export function openedgeErrors(text: string, env: Record<string, string> = {}): string[] {
  return configError(() => openedge(text, env)).issues;
}

/** A one-service application around the given service lines (indented by the caller's 4 spaces). */
export function service(lines: string, volumes = ""): string {
  return `services:\n  - name: s\n    image: example/s\n${lines}\nvolumes:\n${volumes}`;
}
