// YAML text → a small tree of maps, lists and scalars that keeps line numbers and source text,
// with `{{.ENV}}` placeholders filled per scalar. Readers in schema-helpers.ts walk this tree.

import { type Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Issues } from "./issues.ts";
import { type EnvMap, fillScalar, type MaskedText, maskPlaceholders } from "./template.ts";

export type YNode = YMap | YSeq | YScalar;

export interface YMap {
  kind: "map";
  line?: number;
  /** In document order; an empty value (`key:`) is a null scalar. */
  entries: Map<string, YNode>;
  keyLines: Map<string, number>;
}

export interface YSeq {
  kind: "seq";
  line?: number;
  items: YNode[];
}

export interface YScalar {
  kind: "scalar";
  line?: number;
  /** As YAML's core schema types it: `1.10` → 1.1, `yes` → "yes", `~` → null. */
  value: string | number | boolean | null;
  /** The scalar as written (`1.10`), so string fields keep what the operator typed. */
  text: string;
  /** Set when a placeholder's variable is unset: already reported, so readers skip the value. */
  unresolved?: true;
}

const MAX_DEPTH = 64;

export function joinPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** Parses a config document; syntax errors and unset variables go to `issues`. Undefined when empty. */
export function parseYamlTree(text: string, env: EnvMap, issues: Issues): YNode | undefined {
  const masked = maskPlaceholders(text.replace(/^\uFEFF/, ""));
  const lineCounter = new LineCounter();
  const doc = parseDocument(masked.text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;
  for (const e of doc.errors) issues.error("", `invalid YAML: ${firstLine(e.message)}`, lineOf(e.pos[0]));
  if (doc.errors.length > 0) return undefined;
  for (const w of doc.warnings) issues.warn("", `YAML: ${firstLine(w.message)}`, lineOf(w.pos[0]));
  if (doc.contents === null) return undefined;
  const builder = new TreeBuilder(doc, masked, env, issues, lineOf);
  const root = builder.build(doc.contents, "", 0);
  return root.kind === "scalar" && root.value === null ? undefined : root;
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}

class TreeBuilder {
  constructor(
    private readonly doc: Document,
    private readonly masked: MaskedText,
    private readonly env: EnvMap,
    private readonly issues: Issues,
    private readonly lineOf: (offset: number | undefined) => number | undefined,
  ) {}

  build(node: unknown, path: string, depth: number): YNode {
    if (depth > MAX_DEPTH) {
      this.issues.error(path, `must not nest deeper than ${MAX_DEPTH} levels`);
      return { kind: "scalar", value: null, text: "" };
    }
    if (isAlias(node)) return this.build(node.resolve(this.doc), path, depth + 1);
    const line = this.lineOf(rangeStart(node));
    if (isMap(node)) return this.buildMap(node.items, path, depth, line);
    if (isSeq(node)) {
      const items = node.items.map((item, i) => this.build(item, indexPath(path, i), depth + 1));
      return withLine({ kind: "seq", items }, line);
    }
    if (isScalar(node)) return withLine(this.scalar(node.value, node.source, node.type, path, line), line);
    return withLine({ kind: "scalar", value: null, text: "" }, line);
  }

  private buildMap(pairs: readonly unknown[], path: string, depth: number, line: number | undefined): YMap {
    const map: YMap = withLine({ kind: "map", entries: new Map(), keyLines: new Map() }, line);
    const merged: YMap[] = [];
    for (const pair of pairs) {
      if (!isPair(pair)) continue;
      const keyLine = this.lineOf(rangeStart(pair.key));
      const key = this.key(pair.key, path, keyLine);
      if (isScalar(pair.key) && typeof pair.key.value === "symbol") {
        // the merge key `<<` (yaml marks it with a symbol when `merge` is on)
        merged.push(...this.mergeSources(pair.value, path, depth));
        continue;
      }
      map.entries.set(key, this.build(pair.value, joinPath(path, key), depth + 1));
      if (keyLine !== undefined) map.keyLines.set(key, keyLine);
    }
    // YAML merge keys: explicit keys win over merged ones, earlier merge sources over later ones.
    for (const source of merged) {
      for (const [k, v] of source.entries) {
        if (map.entries.has(k)) continue;
        map.entries.set(k, v);
        const kl = source.keyLines.get(k);
        if (kl !== undefined) map.keyLines.set(k, kl);
      }
    }
    return map;
  }

  private mergeSources(value: unknown, path: string, depth: number): YMap[] {
    const built = this.build(value, joinPath(path, "<<"), depth + 1);
    const sources = built.kind === "seq" ? built.items : [built];
    const maps = sources.filter((s): s is YMap => s.kind === "map");
    if (maps.length !== sources.length) this.issues.error(joinPath(path, "<<"), "must merge mappings only");
    return maps;
  }

  private key(node: unknown, path: string, line: number | undefined): string {
    const built = isScalar(node) ? this.scalar(node.value, node.source, "QUOTE_DOUBLE", path, line) : null;
    if (built === null) {
      this.issues.error(path, "keys must be plain strings", line);
      return "";
    }
    return built.text;
  }

  private scalar(value: unknown, source: unknown, type: unknown, path: string, line?: number): YScalar {
    if (typeof value !== "string") {
      const text = typeof source === "string" && source !== "" ? source : value === null ? "" : String(value);
      if (value === null || typeof value === "number" || typeof value === "boolean") {
        return { kind: "scalar", value, text };
      }
      return { kind: "scalar", value: text, text };
    }
    const filled = fillScalar(value, this.masked, this.env);
    if (filled === null) return { kind: "scalar", value, text: value };
    for (const name of filled.missing) {
      this.issues.error(path, `environment variable "${name}" is not set`, line);
    }
    if (filled.missing.length > 0) return { kind: "scalar", value: null, text: "", unresolved: true };
    // `replica: {{.N}}` unquoted reads as the number a plain scalar would, as Go templates did.
    if (filled.whole && type === "PLAIN")
      return { kind: "scalar", value: typedPlain(filled.value), text: filled.value };
    return { kind: "scalar", value: filled.value, text: filled.value };
  }
}

function rangeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === "object" && "range" in node) {
    const range = (node as { range?: unknown }).range;
    if (Array.isArray(range) && typeof range[0] === "number") return range[0];
  }
  return undefined;
}

function withLine<T extends YNode>(node: T, line: number | undefined): T {
  if (line !== undefined) node.line = line;
  return node;
}

/** Core-schema typing of a plain scalar's text: numbers and booleans; anything else stays a string. */
function typedPlain(text: string): string | number | boolean | null {
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^(null|Null|NULL|~)?$/.test(text)) return null;
  if (/^[-+]?[0-9]+$/.test(text)) return Number(text);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  return text;
}
