// A small argv parser for the CLI: declared flags (boolean or valued, with short aliases), positionals,
// and a UsageError the entry point turns into exit code 2 plus the command's usage.

import { OpenEdgeError } from "../lib/errors.ts";

export interface FlagSpec {
  name: string;
  short?: string;
  /** A valued flag takes the next argument (or `--name=value`). */
  value?: boolean;
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  /** Largest number of positionals accepted. */
  maxPositionals: number;
}

export interface ParsedArgs {
  flags: Map<string, string | true>;
  positionals: string[];
}

export class UsageError extends OpenEdgeError {
  constructor(message: string) {
    super("ERR_USAGE", message);
    this.name = "UsageError";
  }
}

const HELP_FLAG: FlagSpec = { name: "help", short: "h", help: "show this help" };

export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  const all = [...spec.flags, HELP_FLAG];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("-") && arg !== "-") {
      const long = arg.startsWith("--");
      const eq = arg.indexOf("=");
      const key = long ? arg.slice(2, eq === -1 ? undefined : eq) : arg.slice(1);
      const flag = all.find((f) => (long ? f.name === key : f.short === key));
      if (!flag) throw new UsageError(`unknown flag ${arg}`);
      if (!flag.value) {
        if (long && eq !== -1) throw new UsageError(`flag --${flag.name} takes no value`);
        flags.set(flag.name, true);
        continue;
      }
      let value: string | undefined;
      if (long && eq !== -1) value = arg.slice(eq + 1);
      else value = argv[++i];
      if (value === undefined || value === "") throw new UsageError(`flag ${arg} needs a value`);
      flags.set(flag.name, value);
      continue;
    }
    positionals.push(arg);
  }
  if (!flags.has("help") && positionals.length > spec.maxPositionals) {
    throw new UsageError(`unexpected argument "${positionals[spec.maxPositionals]}"`);
  }
  return { flags, positionals };
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

export function formatUsage(spec: CommandSpec): string {
  const lines = [`usage: ${spec.usage}`, "", spec.summary, ""];
  const all = [...spec.flags, HELP_FLAG];
  const rows = all.map((f) => {
    const names = (f.short ? `-${f.short}, ` : "    ") + `--${f.name}` + (f.value ? " VALUE" : "");
    return [names, f.help] as const;
  });
  const width = Math.max(...rows.map(([n]) => n.length));
  lines.push("flags:");
  for (const [n, h] of rows) lines.push(`  ${n.padEnd(width)}  ${h}`);
  return lines.join("\n");
}
