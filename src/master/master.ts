// The master's lifecycle: take the pid lock, reap what a crashed predecessor left, serve the API, run
// the application; on shutdown take it down in reverse order and release everything it holds.

import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { ADMIN_USER, ApiServer, createRoutes, TokenStore } from "../api/index.ts";
import type { BusContext, SocketServer } from "../beehive/index.ts";
import type { ApplicationConfig, OpenEdgeConfig } from "../config/index.ts";
import type { Engine, StateFile } from "../engine/index.ts";
import { Supervisor } from "../engine/index.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../log/index.ts";
import type { HostProbe } from "../probe/index.ts";
import { REVISION, VERSION } from "../version.ts";
import { MasterApiBackend } from "./api-backend.ts";
import { ApplicationRunner } from "./application-runner.ts";
import type { BuiltinCatalog } from "./builtin-host.ts";
import { buildInspect } from "./inspect.ts";
import { busMetrics } from "./metrics.ts";
import { OtaLog } from "./ota-log.ts";
import type { WorkPaths } from "./paths.ts";
import type { PidLock } from "./pid-lock.ts";
import { Updater } from "./updater.ts";

export interface MasterDeps {
  paths: WorkPaths;
  config: OpenEdgeConfig;
  app: ApplicationConfig;
  log: Logger;
  clock: Clock;
  engine: Engine;
  stateFile: StateFile;
  probe: HostProbe;
  catalog: BuiltinCatalog;
  /** The master's environment, for `{{.ENV}}` placeholders in updated applications. */
  env: Record<string, string | undefined>;
  /** The beehive bus: the in-process context and its socket server for modules in other processes. */
  bus: { context: BusContext; server: SocketServer };
  /** The pid lock, taken before anything else was assembled; released when the master stops. */
  lock: PidLock;
  /** Update health check: how long each new instance must keep running, and how long to wait for it. */
  health?: { healthyMs: number; timeoutMs: number };
}

type MasterState = "new" | "starting" | "running" | "stopping" | "stopped";

export class Master {
  private state: MasterState = "new";
  private lock: PidLock | null = null;
  private startedAt = 0;
  private api: ApiServer | null = null;
  private ota: OtaLog | null = null;
  private runner: ApplicationRunner | null = null;
  private updater: Updater | null = null;
  private busListening = false;
  private readonly tokens = new TokenStore();
  private readonly log: Logger;
  private resolveStopped!: () => void;
  /** Settles once the master has fully stopped. */
  readonly stopped: Promise<void> = new Promise((resolve) => {
    this.resolveStopped = resolve;
  });

  constructor(private readonly deps: MasterDeps) {
    this.log = deps.log.child({ module: "master" });
  }

  async start(): Promise<void> {
    if (this.state !== "new") throw new Error(`master already ${this.state}`);
    this.state = "starting";
    const { paths, config, app, clock, engine, stateFile, probe } = this.deps;
    const t0 = clock.monotonic();
    this.lock = this.deps.lock;
    try {
      for (const dir of [paths.runDir, paths.servicesRunDir, paths.logDir, paths.dbDir])
        mkdirSync(dir, { recursive: true });
      this.removeSockets();
      this.log.info("master_config_loaded", {
        workdir: paths.root,
        mode: config.mode,
        grace_ms: config.grace,
        api: config.server.address,
        services: app.services.map((s) => s.name),
        volumes: app.volumes.length,
      });

      const leftovers = await engine.reapLeftovers(stateFile.load());
      if (leftovers.reaped.length > 0 || leftovers.gone.length > 0) {
        this.log.warn("leftovers_reaped", {
          reaped: leftovers.reaped.map((r) => r.instance),
          gone: leftovers.gone.map((r) => r.instance),
        });
      }
      stateFile.save([]);

      const supervisor = new Supervisor({ engine, clock, log: this.deps.log, state: stateFile });
      const facts = probe.software();
      const runner = new ApplicationRunner({
        supervisor,
        tokens: this.tokens,
        catalog: this.deps.catalog,
        config,
        host: { os: facts.os, id: facts.host_id },
        log: this.deps.log,
      });
      this.runner = runner;
      this.ota = new OtaLog(config.otalog, () => clock.now());
      const health = this.deps.health ?? { healthyMs: 3000, timeoutMs: 30_000 };
      const updater = new Updater({
        runner,
        supervisor,
        paths,
        ota: this.ota,
        env: this.deps.env,
        log: this.deps.log,
        healthyMs: health.healthyMs,
        healthTimeoutMs: health.timeoutMs,
      });
      this.updater = updater;
      const { bus } = this.deps;
      await bus.server.listen();
      this.busListening = true;
      const inspect = () =>
        buildInspect({
          bus: () => bus.server.stats(),
          runner,
          supervisor,
          probe,
          config,
          workDir: paths.root,
          now: () => clock.now(),
          lastError: () => updater.error,
        });
      const backend = new MasterApiBackend({
        runner,
        supervisor,
        updater,
        inspect,
        busStats: () => busMetrics(bus.server.stats()),
        logDir: paths.logDir,
      });
      this.api = new ApiServer(
        createRoutes({ backend, tokens: this.tokens, log: this.deps.log.child({ module: "api" }) }),
        this.deps.log.child({ module: "api" }),
        config.server.timeout,
      );
      this.api.listen(config.server.endpoint);
      if (config.server.tcp) this.api.listen(config.server.tcp.endpoint);
      this.writeAdminToken();

      runner.setApplication(app);
      const failures = await runner.startServices(app.services);
      this.startedAt = clock.now();
      this.state = "running";
      this.log.info("master_ready", {
        version: VERSION,
        revision: REVISION,
        pid: process.pid,
        services: app.services.length,
        failed: failures.map((f) => f.service),
        startup_ms: Math.round(clock.monotonic() - t0),
      });
    } catch (err) {
      await this.release();
      this.state = "stopped";
      this.resolveStopped();
      throw err;
    }
  }

  async stop(reason: string): Promise<void> {
    if (this.state === "stopping" || this.state === "stopped") return this.stopped;
    this.state = "stopping";
    this.log.info("master_stopping", { reason, uptime_ms: this.deps.clock.now() - this.startedAt });
    await this.release();
    this.state = "stopped";
    this.log.info("master_stopped", { reason });
    this.resolveStopped();
  }

  private writeAdminToken(): void {
    const file = this.deps.paths.adminTokenFile;
    rmSync(file, { force: true });
    writeFileSync(file, `${this.tokens.issue(ADMIN_USER)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }

  private removeSockets(): void {
    for (const socket of this.socketPaths()) rmSync(socket, { force: true });
  }

  private socketPaths(): string[] {
    const { server, bus } = this.deps.config;
    return server.endpoint.kind === "unix" ? [server.endpoint.path, bus.socket] : [bus.socket];
  }

  private async release(): Promise<void> {
    try {
      await this.updater?.shutdown();
      await this.runner?.stopAll();
    } catch (err) {
      this.log.error("application_stop_failed", { error: err });
    }
    await this.api?.close();
    if (this.busListening) await this.deps.bus.server.close();
    await this.deps.bus.context.close();
    await this.deps.engine.close();
    this.ota?.close();
    rmSync(this.deps.paths.adminTokenFile, { force: true });
    this.removeSockets();
    this.lock?.release();
    this.lock = null;
  }
}
