// A tiny typed reader over the YAML tree: each field is one call naming its key, default and rule;
// problems are collected as issues with the exact path (never thrown), and keys nobody read become
// `unknown key` warnings when the reader is done.

import { parseDuration, parseSize } from "../lib/units.ts";
import type { Issues } from "./issues.ts";
import { indexPath, joinPath, type YMap, type YNode } from "./yaml-tree.ts";

export interface StringRules {
  pattern?: RegExp;
  /** Extra check; returns the rule text when the value breaks it. */
  check?: (value: string) => string | undefined;
}

export interface IntRules {
  min?: number;
  max?: number;
}

export interface NumberRules {
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
}

export const RULES = {
  required: "is required",
  string: "must be a string",
  bool: "must be true or false",
  mapping: "must be a mapping",
  list: "must be a list",
  duration: "must be a duration such as 500ms, 30s, 5m or 48h",
  size: "must be a size such as 32k, 4m or 1g",
  pattern: (re: RegExp) => `must match ${re.source}`,
  oneOf: (values: readonly string[]) => `must be one of ${values.join(", ")}`,
  int: ({ min, max }: IntRules) =>
    min !== undefined && max !== undefined
      ? `must be an integer between ${min} and ${max}`
      : min !== undefined
        ? `must be an integer >= ${min}`
        : max !== undefined
          ? `must be an integer <= ${max}`
          : "must be an integer",
  number: ({ min, above }: NumberRules) =>
    above !== undefined
      ? `must be a number > ${above}`
      : min !== undefined
        ? `must be a number >= ${min}`
        : "must be a number",
};

/** The scalar's text for a string field: numbers and booleans as written (`1.10` stays "1.10"). */
export function scalarText(node: YNode | undefined): string | undefined {
  if (node === undefined || node.kind !== "scalar" || node.value === null) return undefined;
  return typeof node.value === "string" ? node.value : node.text;
}

function isEmpty(node: YNode | undefined): node is undefined {
  return node === undefined || (node.kind === "scalar" && node.value === null);
}

/** A value whose placeholder could not be filled; that error is already reported. */
function isUnresolved(node: YNode | undefined): boolean {
  return node?.kind === "scalar" && node.unresolved === true;
}

export class MapReader {
  private readonly map: YMap | undefined;
  private readonly used = new Set<string>();
  /** Not a mapping (reported once): its fields are not reported missing one by one. */
  private readonly broken: boolean = false;

  constructor(
    node: YNode | undefined,
    readonly path: string,
    readonly issues: Issues,
  ) {
    if (isUnresolved(node)) this.broken = true;
    if (isEmpty(node)) return;
    if (node.kind === "map") this.map = node;
    else {
      issues.error(path, path === "" ? "the document must be a mapping" : RULES.mapping, node.line);
      this.broken = true;
    }
  }

  /** The value under `key` (null values read as absent); marks the key as known. */
  node(key: string): YNode | undefined {
    this.used.add(key);
    const node = this.map?.entries.get(key);
    return isEmpty(node) ? undefined : node;
  }

  has(key: string): boolean {
    return this.node(key) !== undefined;
  }

  pathOf(key: string): string {
    return joinPath(this.path, key);
  }

  lineOf(key?: string): number | undefined {
    return (key === undefined ? undefined : this.map?.keyLines.get(key)) ?? this.map?.line;
  }

  error(key: string, message: string): void {
    this.issues.error(this.pathOf(key), message, this.lineOf(key));
  }

  warn(key: string, message: string): void {
    this.issues.warn(this.pathOf(key), message, this.lineOf(key));
  }

  /** Marks keys as known without reading them (fields another component validates). */
  allow(...keys: string[]): void {
    for (const key of keys) this.used.add(key);
  }

  string(key: string, rules: StringRules & { required: true }): string;
  string(key: string, rules: StringRules & { default: string }): string;
  string(key: string, rules?: StringRules): string | undefined;
  string(
    key: string,
    rules: StringRules & { required?: boolean; default?: string } = {},
  ): string | undefined {
    const node = this.node(key);
    if (node === undefined) {
      if (rules.required && !this.broken && !isUnresolved(this.map?.entries.get(key)))
        this.error(key, RULES.required);
      return rules.default ?? (rules.required ? "" : undefined);
    }
    const text = scalarText(node);
    if (text === undefined)
      return this.invalid(key, RULES.string, rules.default ?? (rules.required ? "" : undefined));
    if (rules.required && text === "") return this.invalid(key, RULES.required, "");
    if (rules.pattern && !rules.pattern.test(text)) this.error(key, RULES.pattern(rules.pattern));
    else {
      const broken = rules.check?.(text);
      if (broken !== undefined) this.error(key, broken);
    }
    return text;
  }

  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    const node = this.node(key);
    if (node === undefined) return fallback;
    const text = scalarText(node);
    const found = values.find((v) => v === text);
    return found ?? this.invalid(key, RULES.oneOf(values), fallback);
  }

  int(key: string, fallback: number, rules?: IntRules): number;
  int(key: string, fallback: undefined, rules?: IntRules): number | undefined;
  int(key: string, fallback: number | undefined, rules: IntRules = {}): number | undefined {
    const node = this.node(key);
    if (node === undefined) return fallback;
    const v = node.kind === "scalar" ? node.value : undefined;
    const ok =
      typeof v === "number" &&
      Number.isSafeInteger(v) &&
      (rules.min === undefined || v >= rules.min) &&
      (rules.max === undefined || v <= rules.max);
    return ok ? v : this.invalid(key, RULES.int(rules), fallback);
  }

  number(key: string, fallback: number, rules?: NumberRules): number;
  number(key: string, fallback: undefined, rules?: NumberRules): number | undefined;
  number(key: string, fallback: number | undefined, rules: NumberRules = {}): number | undefined {
    const node = this.node(key);
    if (node === undefined) return fallback;
    const v = node.kind === "scalar" ? node.value : undefined;
    const ok =
      typeof v === "number" &&
      Number.isFinite(v) &&
      (rules.min === undefined || v >= rules.min) &&
      (rules.above === undefined || v > rules.above);
    return ok ? v : this.invalid(key, RULES.number(rules), fallback);
  }

  bool(key: string, fallback: boolean): boolean {
    const node = this.node(key);
    if (node === undefined) return fallback;
    const v = node.kind === "scalar" ? node.value : undefined;
    return typeof v === "boolean" ? v : this.invalid(key, RULES.bool, fallback);
  }

  /** Milliseconds; a string like `30s` or a number of seconds. */
  duration(key: string, fallback: string | number): number;
  duration(key: string, fallback: undefined): number | undefined;
  duration(key: string, fallback: string | number | undefined): number | undefined {
    const def = fallback === undefined ? undefined : (parseDuration(fallback) ?? 0);
    const node = this.node(key);
    if (node === undefined) return def;
    const ms = node.kind === "scalar" ? parseDuration(node.value) : null;
    return ms ?? this.invalid(key, RULES.duration, def);
  }

  /** Bytes; a string like `4m` or a number of `numberUnit` (bytes unless told otherwise). */
  size(key: string, fallback: string | number, numberUnit?: number): number;
  size(key: string, fallback: undefined, numberUnit?: number): number | undefined;
  size(key: string, fallback: string | number | undefined, numberUnit = 1): number | undefined {
    const toBytes = (v: unknown): number | null =>
      typeof v === "number" ? parseSize(v * numberUnit) : parseSize(v);
    const def = fallback === undefined ? undefined : (toBytes(fallback) ?? 0);
    const node = this.node(key);
    if (node === undefined) return def;
    const bytes = node.kind === "scalar" ? toBytes(node.value) : null;
    return bytes ?? this.invalid(key, RULES.size, def);
  }

  /** A nested mapping read by `read`; absent reads as empty so its defaults apply. */
  object<T>(key: string, read: (r: MapReader) => T): T {
    const child = new MapReader(this.node(key), this.pathOf(key), this.issues);
    const value = read(child);
    child.done();
    return value;
  }

  /** A list whose items `read` converts (undefined drops an item it already reported). */
  list<T>(key: string, read: (node: YNode, path: string, index: number) => T | undefined): T[] {
    const node = this.node(key);
    if (node === undefined) return [];
    if (node.kind !== "seq") return this.invalid(key, RULES.list, []);
    const out: T[] = [];
    node.items.forEach((item, i) => {
      const value = read(item, indexPath(this.pathOf(key), i), i);
      if (value !== undefined) out.push(value);
    });
    return out;
  }

  /** A list of mappings, each read by its own reader. */
  objects<T>(key: string, read: (r: MapReader, index: number) => T): T[] {
    return this.list(key, (item, path, index) => {
      const child = new MapReader(item, path, this.issues);
      const value = read(child, index);
      child.done();
      return value;
    });
  }

  /** A list of strings (numbers and booleans as written), each checked by `rules`. */
  strings(key: string, rules: StringRules = {}): string[] {
    return this.list(key, (item, path) => {
      if (isUnresolved(item)) return undefined;
      const text = scalarText(item);
      if (text === undefined) return this.fail(path, item, RULES.string);
      const broken =
        rules.pattern && !rules.pattern.test(text) ? RULES.pattern(rules.pattern) : rules.check?.(text);
      return broken === undefined ? text : this.fail(path, item, broken);
    });
  }

  /** A mapping of strings to strings (numbers and booleans as written, empty values as ""). */
  stringMap(key: string, keyRules: StringRules = {}): Record<string, string> {
    const node = this.node(key);
    const out: Record<string, string> = {};
    if (node === undefined) return out;
    if (node.kind !== "map") return this.invalid(key, RULES.mapping, out);
    for (const [k, v] of node.entries) {
      const path = joinPath(this.pathOf(key), k);
      const broken =
        keyRules.pattern && !keyRules.pattern.test(k) ? RULES.pattern(keyRules.pattern) : keyRules.check?.(k);
      if (broken !== undefined) {
        this.issues.error(path, broken, node.keyLines.get(k));
        continue;
      }
      if (isUnresolved(v)) continue;
      const text = isEmpty(v) ? "" : scalarText(v);
      if (text === undefined) this.fail(path, v, RULES.string);
      else out[k] = text;
    }
    return out;
  }

  /**
   * Warns about every key that no call asked for, suggesting the known key it most likely meant.
   * Keys starting with `x-` are extension fields (as in Compose files), e.g. to hold YAML anchors.
   */
  done(): void {
    if (this.map === undefined) return;
    for (const key of this.map.entries.keys()) {
      if (this.used.has(key) || key.startsWith("x-")) continue;
      const guess = closest(key, [...this.used]);
      const hint = guess === undefined ? "" : ` (did you mean "${guess}"?)`;
      this.issues.warn(this.pathOf(key), `unknown key${hint}`, this.map.keyLines.get(key));
    }
  }

  private invalid<T>(key: string, message: string, fallback: T): T {
    this.error(key, message);
    return fallback;
  }

  private fail(path: string, node: YNode | undefined, message: string): undefined {
    this.issues.error(path, message, node?.line);
    return undefined;
  }
}

/** The closest candidate (case-insensitive) when it is only a typo away: 1 edit, 2 for longer keys. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = key.length >= 6 ? 3 : 2;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? Number.POSITIVE_INFINITY;
}
