// The master's assembly for `openedge start`: the one place that builds its dependencies from
// configuration and the process environment. Loaded only by `start`, so the other commands (and the
// function runtimes, which are this executable too) do not pay for loading the hub, the engine and
// the manager at every start.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { setChildSubreaper } from "../../native/libc.ts";
import { ChannelContext, SocketServer } from "../beehive/index.ts";
import { builtinImage, type OpenEdgeConfig } from "../config/index.ts";
import { NativeEngine, StateFile } from "../engine/index.ts";
import { createFunctionManagerFactory } from "../function/index.ts";
import { buildCoreHub, createHubFactory } from "../hub/index.ts";
import { systemClock } from "../lib/clock.ts";
import { acquirePidLock, Master, workPaths } from "../master/index.ts";
import { HostProbe } from "../probe/index.ts";
import type { ParsedArgs } from "./args.ts";
import { loadApplication, loadStaticConfig } from "./config-loading.ts";
import type { CliContext } from "./context.ts";
import { DIRECT_LAUNCHERS, STARTS_NOTHING_WHILE_STARTING } from "./direct-launchers.ts";
import { writeExampleWorkDir } from "./init.ts";
import { buildMasterLogging } from "./logging.ts";
import { resolveWorkDir, selfCommand } from "./workdir.ts";

/** Instances reach the API through a symlink to its unix socket; a TCP-only API gets the default path. */
function apiSocketPath(config: OpenEdgeConfig, workDir: string): string {
  return config.server.endpoint.kind === "unix"
    ? config.server.endpoint.path
    : `${workDir}/var/run/openedge.sock`;
}

export async function runMaster(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const workDir = resolveWorkDir(args, ctx);
  const paths = workPaths(workDir);
  if (args.flags.has("init") && !existsSync(paths.configFile) && !existsSync(paths.applicationFile)) {
    writeExampleWorkDir(workDir, false);
  }
  const staticConfig = loadStaticConfig(args, ctx, workDir);
  const application = loadApplication(ctx, workDir);
  const logging = buildMasterLogging(staticConfig.config, ctx);
  const log = logging.log;
  for (const loaded of [staticConfig, application]) {
    for (const warning of loaded.warnings) log.warn("config_warning", { file: loaded.file, warning });
  }

  // the lock comes first: a refused second master must not touch cgroups, sockets or the state file
  const lock = acquirePidLock(paths.pidFile);
  let master: Master;
  try {
    const subreaper = setChildSubreaper();
    if (!subreaper.ok) log.warn("subreaper_unavailable", { reason: subreaper.reason });
    const hostEnv = Object.fromEntries(
      Object.entries(ctx.env).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
    const engine = new NativeEngine({
      workDir,
      apiSocketPath: apiSocketPath(staticConfig.config, workDir),
      log,
      clock: systemClock,
      hostEnv,
      isBuiltin: (image) => builtinImage(image) !== null,
      builtinCommand: (spec, _instance, at) => {
        const image = builtinImage(spec.image) ?? spec.image;
        const direct = DIRECT_LAUNCHERS[image.replace(/^openedge-/, "")]?.(at.dir, at.env, workDir);
        return (
          direct ?? {
            argv: [...selfCommand(ctx), "module", image, "-w", workDir],
            ...(STARTS_NOTHING_WHILE_STARTING.has(image) ? { lateCgroupJoin: true } : {}),
          }
        );
      },
    });
    const bus = new ChannelContext({
      log,
      clock: systemClock,
      capacity: staticConfig.config.bus.queue.size,
      syncTimeoutMs: staticConfig.config.bus.timeout,
    });
    const busServer = new SocketServer({
      context: bus,
      path: staticConfig.config.bus.socket,
      log,
      maxFrameBytes: staticConfig.config.bus.frame.max,
    });
    master = new Master({
      paths,
      config: staticConfig.config,
      app: application.config,
      log,
      clock: systemClock,
      engine,
      stateFile: new StateFile(paths.statsFile, log),
      probe: new HostProbe({ workDir, clock: systemClock, log }),
      catalog: {
        "openedge-hub": createHubFactory({
          env: ctx.env,
          buildHub: buildCoreHub,
          // a relative storage.dir outside the service's mounts stays with the work dir's data
          fallbackDir: (service) => join(workDir, "var/db/openedge", service),
        }),
        "openedge-function-manager": createFunctionManagerFactory({
          env: ctx.env,
          socketDir: () => join(workDir, "var/run/openedge/fn"),
        }),
      },
      env: ctx.env,
      lock,
      bus: { context: bus, server: busServer },
    });
  } catch (err) {
    lock.release();
    logging.close();
    throw err;
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn("master_forced_exit", { signal });
      process.exit(130);
    }
    void master.stop(signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    await master.start();
    await master.stopped;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    logging.close();
  }
  return 0;
}
