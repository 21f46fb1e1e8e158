// `openedge module openedge-hub`: the openedge-hub built-in with `isolation: process`. The engine starts
// it in the instance dir, where every mount is a symlink to its volume (etc/openedge holds service.yml,
// var/db/openedge/data the store); it runs the same module as the in-process placement, joins the
// master's beehive bus as a remote module named after the service, reports the hub's statistics to the
// master's API (inspect, /metrics) and closes gracefully on SIGTERM (bounded by shutdown.timeout).

import { lstatSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { connectRemoteBus, type SocketClientContext, type SocketClientDeps } from "../beehive/index.ts";
import { loadStaticConfig } from "../cli/config-loading.ts";
import type { ModuleRunContext } from "../cli/module-runners.ts";
import type { Endpoint } from "../config/index.ts";
import { parseAddress } from "../config/index.ts";
import { errorMessage } from "../lib/errors.ts";
import { ConsoleSink, LOG_LEVELS, type Logger, type LogLevel, SinkLogger } from "../log/index.ts";
import { type RunningHub, startHubModule } from "./module.ts";
import { buildCoreHub } from "./module-core.ts";

/** The instance dir's link to the master's API socket: not a volume. */
const API_LINK = "var/run/openedge.sock";

export async function runHubProcess(run: ModuleRunContext): Promise<number> {
  const { ctx, workDir } = run;
  const { env, cwd } = ctx;
  const service = env.OPENEDGE_SERVICE_NAME || "openedge-hub";
  const instance = env.OPENEDGE_SERVICE_INSTANCE_NAME || service;
  const min = LOG_LEVELS.find((l) => l === env.OPENEDGE_LOG_LEVEL) ?? ("info" satisfies LogLevel);
  const log: Logger = new SinkLogger([new ConsoleSink("json", 2)], min).child({
    module: "openedge-hub",
    service,
    instance,
  });

  // `on`, not `once`: the engine signals the instance's whole group and its leader, and a second
  // SIGTERM with no handler left would cut the graceful close short (the engine's SIGKILL after
  // its grace stays the backstop)
  const terminated = new Promise<string>((resolve) => {
    process.on("SIGTERM", () => resolve("SIGTERM"));
    process.on("SIGINT", () => resolve("SIGINT"));
  });

  let hub: RunningHub;
  try {
    hub = await startHubModule({
      env,
      buildHub: buildCoreHub,
      // a relative storage.dir outside the mounts stays with the work dir's data, as in the master
      fallbackDir: (name) => join(workDir, "var/db/openedge", name),
      mounts: instanceMounts(cwd),
      service,
      log,
    });
  } catch (err) {
    log.error("hub_start_failed", { error: errorMessage(err) });
    return 1;
  }

  const busOptions = busOf(run, log);
  const busPath = busOptions.path;
  let bus: SocketClientContext | undefined;
  let closing = false;
  const joining = connectRemoteBus({ ...busOptions, modules: [{ name: service }], log })
    .then((ctx) => {
      bus = ctx;
      if (closing) void ctx.close();
      else log.info("hub_bus_joined", { socket: busPath, module: service });
    })
    .catch((err) => {
      if (!closing) log.warn("hub_bus_join_failed", { socket: busPath, error: errorMessage(err) });
    });

  const reporter = startReporting(hub, env, cwd, service, instance, log);

  const signal = await terminated;
  closing = true;
  log.info("hub_stopping", { signal });
  reporter.stop();
  await hub.stop();
  await bus?.close();
  void joining;
  return 0;
}

/** The master's bus as its openedge.yml (in the work dir given by -w, or -c) sets it; else the default. */
function busOf(run: ModuleRunContext, log: Logger): SocketClientDeps {
  try {
    const { bus } = loadStaticConfig(run.args, run.ctx, run.workDir).config;
    return { path: bus.socket, codec: bus.codec, maxFrameBytes: bus.frame.max, syncTimeoutMs: bus.timeout };
  } catch (err) {
    log.warn("hub_bus_config_unreadable", { error: errorMessage(err) });
    return { path: join(run.workDir, "var/run/openedge.bus") };
  }
}

/** Mount paths by their symlinks in the instance dir (the store resolves through them into the volumes). */
export function instanceMounts(instanceDir: string): Record<string, string> {
  const mounts: Record<string, string> = {};
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st === undefined) continue;
      const rel = relative(instanceDir, path);
      if (st.isSymbolicLink()) {
        if (rel !== API_LINK) mounts[rel] = path;
      } else if (st.isDirectory()) walk(path);
    }
  };
  walk(instanceDir);
  return mounts;
}

/**
 * Reports the hub's figures to the master (`PUT …/instances/{i}/report`) once ready and then every
 * metrics.report.interval; inspect merges them into the instance and /metrics renders them.
 */
function startReporting(
  hub: RunningHub,
  env: Record<string, string | undefined>,
  cwd: string,
  service: string,
  instance: string,
  log: Logger,
): { stop(): void } {
  const token = env.OPENEDGE_SERVICE_TOKEN;
  const endpoint: Endpoint | null = env.OPENEDGE_MASTER_API
    ? parseAddress(env.OPENEDGE_MASTER_API, cwd)
    : null;
  if (token === undefined || token === "" || endpoint === null) return { stop: () => {} };
  const base = endpoint.kind === "unix" ? "http://localhost" : `http://${endpoint.host}:${endpoint.port}`;
  const version = env.OPENEDGE_MASTER_API_VERSION || "v1";
  const url = `${base}/${version}/services/${encodeURIComponent(service)}/instances/${encodeURIComponent(instance)}/report`;
  let warned = false;
  let inFlight = false;
  const report = async () => {
    if (inFlight) return;
    inFlight = true;
    try {
      const { listeners: _listeners, ...stats } = hub.inspect?.() ?? {};
      const res = await fetch(url, {
        method: "PUT",
        headers: {
          "x-openedge-username": service,
          "x-openedge-password": token,
          "content-type": "application/json",
        },
        body: JSON.stringify(stats),
        ...(endpoint.kind === "unix" ? { unix: endpoint.path } : {}),
      } as RequestInit & { unix?: string });
      await res.arrayBuffer();
      if (!res.ok && !warned) {
        warned = true;
        log.warn("hub_report_refused", { status: res.status });
      }
    } catch (err) {
      if (!warned) {
        warned = true;
        log.warn("hub_report_failed", { error: errorMessage(err) });
      }
    } finally {
      inFlight = false;
    }
  };
  void report();
  const timer = setInterval(() => void report(), Math.max(1000, hub.config.metrics.report.intervalMs));
  return { stop: () => clearInterval(timer) };
}
