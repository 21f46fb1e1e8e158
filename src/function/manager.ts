// The `openedge-function-manager` built-in: reads service.yml, opens one pool per function (dynamic
// instances of the function's service, through the master) and one hub client per rule (the
// in-process hub of the same application), and hands the master {stop, inspect}.

import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { msgpackCodec } from "../beehive/index.ts";
import { builtinImage, legacyBuiltinReplacement } from "../config/builtin-images.ts";
import type { EnvMap } from "../config/index.ts";
import type { InprocClient, InprocClientOptions } from "../hub/index.ts";
import { BusyPoller } from "../lib/busy-poll.ts";
import { type Clock, systemClock } from "../lib/clock.ts";
import { errorMessage, OpenEdgeError } from "../lib/errors.ts";
import type { Logger } from "../log/index.ts";
import type { BuiltinContext, BuiltinFactory, InprocService } from "../master/builtin-host.ts";
import { type ManagedFunction, type ManagerConfig, parseManagerConfig } from "./manager-config.ts";
import { RuleRunner } from "./manager-rule.ts";
import { FunctionPool, type RuntimeConnector, socketConnector } from "./pool.ts";
import { MAX_SOCKET_PATH } from "./protocol.ts";

export const MANAGER_CONFIG_MOUNT = "etc/openedge";

export interface FunctionManagerDeps {
  /** Fills `{{.NAME}}` placeholders in service.yml. */
  env: EnvMap;
  /** Where instance sockets go (created if missing); a temp dir when its paths would be too long. */
  socketDir: (service: string) => string;
  clock?: Clock;
  connect?: RuntimeConnector;
}

/** An in-process service that hands out hub clients (the running `openedge-hub`). */
interface HubClientSource extends InprocService {
  client(options: InprocClientOptions): InprocClient;
}

function isHubClientSource(value: InprocService | undefined): value is HubClientSource {
  return value !== undefined && typeof (value as Partial<HubClientSource>).client === "function";
}

export interface RunningFunctionManager extends InprocService {
  readonly config: ManagerConfig;
  pool(functionName: string): FunctionPool | undefined;
}

/** The built-in factory the master's catalog lists for `openedge-function-manager`. */
export function createFunctionManagerFactory(deps: FunctionManagerDeps): BuiltinFactory {
  return (ctx) => startFunctionManager(ctx, deps);
}

export function loadManagerConfig(ctx: BuiltinContext, env: EnvMap, log: Logger): ManagerConfig {
  const dir = ctx.mounts[MANAGER_CONFIG_MOUNT];
  if (dir === undefined) {
    throw new OpenEdgeError(
      "ERR_CONFIG",
      `service "${ctx.service.name}" mounts no volume at ${MANAGER_CONFIG_MOUNT} (its service.yml)`,
      { details: { service: ctx.service.name } },
    );
  }
  const file = join(dir, "service.yml");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new OpenEdgeError("ERR_CONFIG", `cannot read the function manager's config "${file}"`, {
      cause,
      details: { file, error: errorMessage(cause) },
    });
  }
  const services = ctx.application.services.map((s) => s.name);
  const { value, warnings } = parseManagerConfig(text, { env, file, services });
  for (const warning of warnings) log.warn("config_warning", { file, warning });
  return value;
}

function hubOf(ctx: BuiltinContext, config: ManagerConfig): HubClientSource {
  const hub = ctx.builtin("openedge-hub");
  if (isHubClientSource(hub)) return hub;
  throw new OpenEdgeError(
    "ERR_CONFIG",
    `hub.address ${config.hub.address ?? "(unset)"}: network hubs are not supported yet; run an openedge-hub service inside the master, listed before "${ctx.service.name}" in the application`,
    { details: { service: ctx.service.name, address: config.hub.address } },
  );
}

function socketDirFor(preferred: string, functions: readonly ManagedFunction[]): string {
  const longest = Math.max(0, ...functions.map((f) => `${f.service}.${f.name}.999.sock`.length));
  if (preferred.length + 1 + longest <= MAX_SOCKET_PATH) {
    mkdirSync(preferred, { recursive: true, mode: 0o700 });
    return preferred;
  }
  return mkdtempSync(join(tmpdir(), "oe-fn-"));
}

/**
 * The JavaScript runtime (this executable) reads MessagePack: payload bytes travel raw instead of as
 * base64 in JSON ({"$bin": …}), parsed without a reviver. Other runtimes get JSON, which all speak.
 */
export function speaksMsgpack(ctx: BuiltinContext, service: string): boolean {
  const image = ctx.application.services.find((s) => s.name === service)?.image ?? "";
  return (builtinImage(image) ?? legacyBuiltinReplacement(image)) === "openedge-function-node";
}

export async function startFunctionManager(
  ctx: BuiltinContext,
  deps: FunctionManagerDeps,
): Promise<RunningFunctionManager> {
  const { log } = ctx;
  const clock = deps.clock ?? systemClock;
  const config = loadManagerConfig(ctx, deps.env, log);
  const hub = hubOf(ctx, config);
  const socketDir = socketDirFor(deps.socketDir(ctx.service.name), config.functions);
  // each rule keeps up to 2×max calls in flight; the pool's queue holds them all, so it never refuses
  const limitOf = (fn: ManagedFunction) => 2 * fn.instance.max;
  const busyPoll = new BusyPoller(config.busyPollMs, clock);
  const pools = new Map<string, FunctionPool>();
  for (const fn of config.functions) {
    const users = config.rules.filter((r) => r.function.name === fn.name).length;
    pools.set(
      fn.name,
      new FunctionPool(
        {
          service: fn.service,
          functionName: fn.name,
          min: fn.instance.min,
          max: fn.instance.max,
          idleTimeMs: fn.instance.idletimeMs,
          ...(fn.instance.evicttimeMs === undefined ? {} : { evictTimeMs: fn.instance.evicttimeMs }),
          timeoutMs: fn.timeoutMs,
          queueMax: Math.max(1, users * limitOf(fn)),
          socketDir,
        },
        {
          starter: ctx.instances,
          connect:
            deps.connect ??
            socketConnector({
              clock,
              busyPoll,
              ...(speaksMsgpack(ctx, fn.service) ? { codec: msgpackCodec } : {}),
            }),
          clock,
          log,
        },
      ),
    );
  }
  const rules: RuleRunner[] = [];
  const stop = async () => {
    busyPoll.stop();
    for (const rule of rules) rule.close();
    await Promise.all([...pools.values()].map((p) => p.close()));
  };
  try {
    for (const rule of config.rules) {
      const fn = config.functions.find((f) => f.name === rule.function.name) as ManagedFunction;
      const pool = pools.get(fn.name) as FunctionPool;
      // persistent: a QoS 1 message the master took but did not answer before dying is redelivered
      const client = hub.client({ clientId: rule.clientid, clean: false });
      const runner = new RuleRunner(rule, fn, {
        client,
        invoke: (call) => pool.invoke(call),
        limit: limitOf(fn),
        clock,
        log,
      });
      rules.push(runner);
      runner.start();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  // warm instances start in the background: the function services may come later in the list, and
  // the pool retries a failed start by itself
  for (const pool of pools.values()) void pool.start();
  log.info("function_manager_ready", {
    rules: config.rules.length,
    functions: config.functions.map((f) => f.name),
    sockets: socketDir,
  });
  let stopping: Promise<void> | undefined;
  return {
    config,
    pool: (name) => pools.get(name),
    stop: () => {
      stopping ??= stop().then(() => log.info("function_manager_stopped", {}));
      return stopping;
    },
    inspect: () => ({
      rules: rules.map((r) => ({ clientid: r.rule.clientid, ...r.stats() })),
      functions: Object.fromEntries(
        [...pools].map(([name, p]) => [name, { ...p.stats(), names: p.names() }]),
      ),
    }),
  };
}
