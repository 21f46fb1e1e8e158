// One service of application.yml (OpenEdge 0.1.x fields plus `isolation`), read with its defaults and
// rules; mounts are checked against the declared volumes here so each error names the mount's path.

import { type BuiltinName, builtinImage, legacyBuiltinReplacement } from "./builtin-images.ts";
import { hasDotDot, normalizeMountPath } from "./paths.ts";
import {
  DEVICE_RULE,
  type DeviceMapping,
  PORT_RULE,
  type PortMapping,
  parseDeviceMapping,
  parsePortMapping,
} from "./port-device.ts";
import type { MapReader } from "./schema-helpers.ts";

export type RestartPolicy = "always" | "on-failure" | "no";
/** How a built-in image runs: inside the master, or as a child process joined to its bus. */
export type Isolation = "inproc" | "process";

export interface MountConfig {
  /** A declared volume. */
  name: string;
  /** Where the volume appears: relative to the instance dir (native) or in the container (docker). */
  path: string;
  readonly: boolean;
}

export interface RestartConfig {
  /** Restarts allowed; 0 = unlimited. */
  retry: { max: number };
  policy: RestartPolicy;
  /** Delay between restarts, ms: from `min`, times `factor` each time, capped at `max`. */
  backoff: { min: number; max: number; factor: number };
}

export interface ResourcesConfig {
  cpu: { cpus?: number; setcpus?: string };
  /** Bytes. */
  memory: { limit?: number; swap?: number };
  pids: { limit?: number };
}

export interface ServiceConfig {
  name: string;
  image: string;
  /** The built-in module the image names, or null for a user image. */
  builtin: BuiltinName | null;
  replica: number;
  mounts: MountConfig[];
  ports: PortMapping[];
  devices: DeviceMapping[];
  args: string[];
  env: Record<string, string>;
  restart: RestartConfig;
  resources: ResourcesConfig;
  /** Docker runtime such as `nvidia`. */
  runtime?: string;
  isolation: Isolation;
}

export const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;
const SETCPUS = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

export function readService(r: MapReader, volumes: ReadonlySet<string>): ServiceConfig {
  const name = r.string("name", { required: true, pattern: SERVICE_NAME });
  const image = r.string("image", {
    required: true,
    check: (v) => (/\s/.test(v) ? "must not contain whitespace" : undefined),
  });
  const builtin = builtinImage(image);
  const legacy = legacyBuiltinReplacement(image);
  if (legacy !== null) r.warn("image", `"${image}" is not built in; use ${legacy}`);
  const explicitIsolation = r.has("isolation");
  const isolation = r.oneOf("isolation", ["inproc", "process"] as const, "inproc");
  if (explicitIsolation && builtin === null) r.warn("isolation", "only applies to built-in images; ignored");
  const service: ServiceConfig = {
    name,
    image,
    builtin,
    replica: r.int("replica", 1, { min: 0 }),
    mounts: readMounts(r, volumes),
    ports: r
      .strings("ports", { check: (s) => (parsePortMapping(s) ? undefined : PORT_RULE) })
      .flatMap((s) => parsePortMapping(s) ?? []),
    devices: r
      .strings("devices", { check: (s) => (parseDeviceMapping(s) ? undefined : DEVICE_RULE) })
      .flatMap((s) => parseDeviceMapping(s) ?? []),
    args: r.strings("args"),
    env: r.stringMap("env", {
      check: (k) => (k === "" || k.includes("=") ? 'must not be empty or contain "="' : undefined),
    }),
    restart: r.object("restart", readRestart),
    resources: r.object("resources", readResources),
    isolation,
  };
  const runtime = r.string("runtime");
  if (runtime !== undefined) service.runtime = runtime;
  return service;
}

function readMounts(r: MapReader, volumes: ReadonlySet<string>): MountConfig[] {
  const seen = new Map<string, number>();
  return r.objects("mounts", (m, index) => {
    const name = m.string("name", { required: true });
    if (name !== "" && !volumes.has(name)) m.error("name", `volume "${name}" is not declared`);
    const path = m.string("path", {
      required: true,
      check: (p) => (hasDotDot(p) ? 'must not contain ".." segments' : undefined),
    });
    const key = normalizeMountPath(path);
    const first = seen.get(key);
    if (path !== "" && first !== undefined)
      m.error("path", `"${path}" is already mounted by mounts[${first}]`);
    else seen.set(key, index);
    return { name, path, readonly: m.bool("readonly", false) };
  });
}

function readRestart(r: MapReader): RestartConfig {
  const restart: RestartConfig = {
    retry: r.object("retry", (t) => ({ max: t.int("max", 0, { min: 0 }) })),
    policy: r.oneOf("policy", ["always", "on-failure", "no"] as const, "always"),
    backoff: r.object("backoff", (b) => {
      const min = b.duration("min", "1s");
      const max = b.duration("max", "5m");
      if (max < min) b.error("max", "must not be less than backoff.min");
      return { min, max, factor: b.number("factor", 2, { min: 1 }) };
    }),
  };
  return restart;
}

function readResources(r: MapReader): ResourcesConfig {
  const cpu = r.object("cpu", (c) =>
    optional({
      cpus: c.number("cpus", undefined, { above: 0 }),
      setcpus: c.string("setcpus", { pattern: SETCPUS }),
    }),
  );
  const memory = r.object("memory", (m) =>
    optional({ limit: m.size("limit", undefined), swap: m.size("swap", undefined) }),
  );
  const pids = r.object("pids", (p) => optional({ limit: p.int("limit", undefined, { min: 1 }) }));
  return { cpu, memory, pids };
}

/** Drops undefined fields so an unset limit is absent rather than present-and-undefined. */
function optional<T extends Record<string, unknown>>(
  fields: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
