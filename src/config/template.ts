// `{{.ENV_NAME}}` placeholders (OpenEdge's Go-template style, spaces allowed inside the braces).
// Placeholders are masked before YAML parsing and filled per scalar afterwards, so a value holding
// `#`, `: ` or quotes cannot change the document's structure, and placeholders in comments are ignored.

const PLACEHOLDER = /\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export type EnvMap = Readonly<Record<string, string | undefined>>;

/** The text with every placeholder replaced by a sentinel token, and what each sentinel stands for. */
export interface MaskedText {
  text: string;
  /** Environment variable name per sentinel index. */
  names: string[];
  /** Matches one sentinel; group 1 is its index. */
  sentinel: RegExp;
}

export function maskPlaceholders(text: string): MaskedText {
  // A prefix that cannot occur in the file, so a sentinel is never mistaken for user text.
  let prefix = "__openedge_env_";
  while (text.includes(prefix)) prefix = `_${prefix}`;
  const names: string[] = [];
  const masked = text.replace(PLACEHOLDER, (_match, name: string) => {
    names.push(name);
    return `${prefix}${names.length - 1}__`;
  });
  return { text: masked, names, sentinel: new RegExp(`${prefix}(\\d+)__`, "g") };
}

export interface FilledScalar {
  value: string;
  /** True when the scalar was exactly one placeholder (its value may then be typed: `replica: {{.N}}`). */
  whole: boolean;
  /** Variables the scalar uses that the env map lacks (deduplicated, in order of use). */
  missing: string[];
}

/** Fills the sentinels of one scalar from `env`; null when the scalar holds none. */
export function fillScalar(value: string, masked: MaskedText, env: EnvMap): FilledScalar | null {
  if (masked.names.length === 0) return null;
  const missing: string[] = [];
  let count = 0;
  let whole = false;
  const filled = value.replace(masked.sentinel, (match, index: string) => {
    count++;
    whole = match === value;
    const name = masked.names[Number(index)] ?? "";
    const v = env[name];
    if (v === undefined) {
      if (!missing.includes(name)) missing.push(name);
      return "";
    }
    return v;
  });
  if (count === 0) return null;
  return { value: filled, whole, missing };
}

/** Names of every placeholder in a text (comments included), for diagnostics and `openedge check`. */
export function placeholderNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) names.add(m[1] ?? "");
  return [...names];
}
