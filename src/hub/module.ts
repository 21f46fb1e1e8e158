// The `openedge-hub` built-in: reads service.yml from the volume mounted at etc/openedge, opens the
// store under storage.dir (resolved against the mounted data volume), starts the core and its
// listeners, and hands the master {stop, inspect}. The same assembly serves `isolation: process`.

import { isAbsolute, join, normalize } from "node:path";
import type { EnvMap } from "../config/index.ts";
import { type Clock, systemClock } from "../lib/clock.ts";
import { errorMessage, OpenEdgeError } from "../lib/errors.ts";
import type { Logger } from "../log/index.ts";
import type { BuiltinContext, BuiltinFactory, InprocService } from "../master/builtin-host.ts";
import { PrincipalAuthenticator } from "./auth.ts";
import { type HubConfig, loadHubConfig } from "./config.ts";
import type { Authenticator, HubCore } from "./contracts.ts";
import type { InprocClient, InprocClientOptions } from "./inproc-client.ts";
import { type RunningListener, startListeners } from "./listeners/index.ts";

export const CONFIG_MOUNT = "etc/openedge";

/** The protocol core as the module drives it. */
export interface HubInstance extends HubCore {
  start(): void | Promise<void>;
  close(): void | Promise<void>;
  stats(): object;
  /** An in-process client (other built-ins' way in); absent on cores without one. */
  client?(options: InprocClientOptions): InprocClient;
}

export interface BuildHubOptions {
  config: HubConfig;
  /** Absolute; created by the builder's persistence if missing. */
  storageDir: string;
  authenticator: Authenticator;
  clock: Clock;
  log: Logger;
}

export type HubBuilder = (options: BuildHubOptions) => HubInstance | Promise<HubInstance>;

export interface HubModuleDeps {
  /** Fills `{{.NAME}}` placeholders in service.yml. */
  env: EnvMap;
  buildHub: HubBuilder;
  /** Relative storage dirs outside every mount resolve against this folder. */
  fallbackDir: (service: string) => string;
  clock?: Clock;
}

export interface HubModuleOptions extends HubModuleDeps {
  /** Host paths by mount path; `etc/openedge` holds service.yml. */
  mounts: Record<string, string>;
  service: string;
  log: Logger;
}

export interface RunningHub extends InprocService {
  readonly config: HubConfig;
  readonly listeners: readonly RunningListener[];
  readonly storageDir: string;
  /** An in-process client of this hub, for other built-ins (the function manager). */
  client(options: InprocClientOptions): InprocClient;
}

/** The built-in factory the master's catalog lists for `openedge-hub`. */
export function createHubFactory(deps: HubModuleDeps): BuiltinFactory {
  return (ctx: BuiltinContext) =>
    startHubModule({ ...deps, mounts: ctx.mounts, service: ctx.service.name, log: ctx.log });
}

export async function startHubModule(options: HubModuleOptions): Promise<RunningHub> {
  const { mounts, service, log } = options;
  const confDir = mounts[CONFIG_MOUNT];
  if (confDir === undefined) {
    throw new OpenEdgeError(
      "ERR_CONFIG",
      `service "${service}" mounts no volume at ${CONFIG_MOUNT} (its service.yml)`,
      {
        details: { service },
      },
    );
  }
  const file = join(confDir, "service.yml");
  const { config, warnings } = loadHubConfig(file, options.env);
  for (const warning of warnings) log.warn("config_warning", { file, warning });
  const storageDir = resolveStorageDir(config.storage.dir, mounts, options.fallbackDir(service));
  if (!isUnderMount(config.storage.dir, mounts))
    log.info("hub_storage_outside_mounts", { dir: config.storage.dir, path: storageDir });
  const hub = await options.buildHub({
    config,
    storageDir,
    authenticator: new PrincipalAuthenticator({ principals: config.principals, anonymous: config.anonymous }),
    clock: options.clock ?? systemClock,
    log,
  });
  let listeners: RunningListener[];
  try {
    await hub.start();
    listeners = startListeners(config.listen, { core: hub, log, certificate: config.certificate });
  } catch (err) {
    await hub.close();
    throw err;
  }
  log.info("hub_ready", {
    listeners: listeners.map((l) => ({ url: l.url, port: l.port })),
    principals: config.principals.length,
    anonymous: config.anonymous,
    routes: config.subscriptions.length,
    storage: storageDir,
  });
  let stopping: Promise<void> | undefined;
  return {
    config,
    listeners,
    storageDir,
    client: (clientOptions) => {
      if (hub.client === undefined)
        throw new OpenEdgeError("ERR_INTERNAL", "this hub core has no in-process clients");
      return hub.client(clientOptions);
    },
    stop: () => {
      stopping ??= stopHub(hub, listeners, config.shutdown.timeoutMs, log);
      return stopping;
    },
    inspect: () => ({
      listeners: listeners.map((l) => ({ url: l.url, port: l.port })),
      ...hub.stats(),
    }),
  };
}

/** Stop accepting, let the core close its clients (bounded by shutdown.timeout), then cut the rest. */
async function stopHub(
  hub: HubInstance,
  listeners: readonly RunningListener[],
  timeoutMs: number,
  log: Logger,
): Promise<void> {
  for (const l of listeners) l.stop(false);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([
      Promise.resolve(hub.close()).then(() => "closed" as const),
      timedOut,
    ]);
    if (outcome === "timeout") log.warn("hub_shutdown_timeout", { timeout_ms: timeoutMs });
  } catch (err) {
    log.error("hub_close_failed", { error: errorMessage(err) });
  } finally {
    clearTimeout(timer);
    for (const l of listeners) l.stop(true);
  }
  log.info("hub_stopped", {});
}

/**
 * An absolute dir as written; a relative one inside a mount path (OpenEdge mounts the data volume at
 * var/db/openedge/data) maps into that volume's host folder; any other relative dir goes under
 * `fallback`.
 */
export function resolveStorageDir(dir: string, mounts: Record<string, string>, fallback: string): string {
  if (isAbsolute(dir)) return dir;
  const rel = trimSlashes(normalize(dir));
  const mount = longestMountOf(rel, mounts);
  if (mount === undefined) return join(fallback, rel);
  return join(mount.hostPath, rel.slice(mount.path.length));
}

function isUnderMount(dir: string, mounts: Record<string, string>): boolean {
  return isAbsolute(dir) || longestMountOf(trimSlashes(normalize(dir)), mounts) !== undefined;
}

function longestMountOf(
  rel: string,
  mounts: Record<string, string>,
): { path: string; hostPath: string } | undefined {
  let best: { path: string; hostPath: string } | undefined;
  for (const [raw, hostPath] of Object.entries(mounts)) {
    const path = trimSlashes(normalize(raw));
    if (
      (rel === path || rel.startsWith(`${path}/`)) &&
      (best === undefined || path.length > best.path.length)
    )
      best = { path, hostPath };
  }
  return best;
}

function trimSlashes(p: string): string {
  return p.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
}
