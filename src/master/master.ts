// The master's lifecycle: take the pid lock, prepare the work dir, bring the application up, and on
// shutdown take it down in reverse order, releasing everything it holds.

import { mkdirSync, rmSync } from "node:fs";
import type { ApplicationConfig, OpenEdgeConfig } from "../config/index.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../log/index.ts";
import { REVISION, VERSION } from "../version.ts";
import type { WorkPaths } from "./paths.ts";
import { acquirePidLock, type PidLock } from "./pid-lock.ts";

export interface MasterDeps {
  paths: WorkPaths;
  config: OpenEdgeConfig;
  app: ApplicationConfig;
  log: Logger;
  clock: Clock;
}

type MasterState = "new" | "starting" | "running" | "stopping" | "stopped";

export class Master {
  private state: MasterState = "new";
  private lock: PidLock | null = null;
  private startedAt = 0;
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
    const { paths, config, app, clock } = this.deps;
    const t0 = clock.monotonic();
    this.lock = acquirePidLock(paths.pidFile);
    try {
      for (const dir of [paths.runDir, paths.servicesRunDir, paths.logDir, paths.dbDir]) {
        mkdirSync(dir, { recursive: true });
      }
      this.removeSockets();
      this.log.info("master_config_loaded", {
        workdir: paths.root,
        mode: config.mode,
        grace_ms: config.grace,
        api: config.server.address,
        services: app.services.map((s) => s.name),
        volumes: app.volumes.length,
      });
      this.startedAt = clock.now();
      this.state = "running";
      this.log.info("master_ready", {
        version: VERSION,
        revision: REVISION,
        pid: process.pid,
        startup_ms: Math.round(clock.monotonic() - t0),
      });
    } catch (err) {
      this.release();
      this.state = "stopped";
      this.resolveStopped();
      throw err;
    }
  }

  async stop(reason: string): Promise<void> {
    if (this.state === "stopping" || this.state === "stopped") return this.stopped;
    this.state = "stopping";
    this.log.info("master_stopping", { reason, uptime_ms: this.deps.clock.now() - this.startedAt });
    this.release();
    this.state = "stopped";
    this.log.info("master_stopped", { reason });
    this.resolveStopped();
  }

  private removeSockets(): void {
    for (const socket of this.socketPaths()) rmSync(socket, { force: true });
  }

  private socketPaths(): string[] {
    const { server, bus } = this.deps.config;
    return server.endpoint.kind === "unix" ? [server.endpoint.path, bus.socket] : [bus.socket];
  }

  private release(): void {
    this.removeSockets();
    this.lock?.release();
    this.lock = null;
  }
}
