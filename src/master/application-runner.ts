// Runs an application: each service on the engine (through the supervisor) or inside the master (a
// built-in module), in list order, stopped in reverse. Keeps per-service tokens, start failures and the
// stats services report about themselves, for inspect.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TokenStore } from "../api/index.ts";
import type { ApplicationConfig, BuiltinName, OpenEdgeConfig, ServiceConfig } from "../config/index.ts";
import type { Supervisor } from "../engine/index.ts";
import { errorMessage, OpenEdgeError } from "../lib/errors.ts";
import type { Logger } from "../log/index.ts";
import {
  type BuiltinCatalog,
  type DynamicInstances,
  type InprocService,
  placementOf,
} from "./builtin-host.ts";
import { toServiceSpec } from "./service-spec.ts";
import { systemEnv } from "./system-env.ts";

export interface RunnerDeps {
  supervisor: Supervisor;
  tokens: TokenStore;
  catalog: BuiltinCatalog;
  config: OpenEdgeConfig;
  host: { os: string; id: string };
  log: Logger;
}

type ServiceState =
  | { kind: "engine" }
  | { kind: "inproc"; handle: InprocService; image: BuiltinName }
  | { kind: "failed"; reason: string };

/** Start-body keys that identify the caller: a service may not forge them for an instance it starts. */
const PROTECTED_ENV = new Set([
  "OPENEDGE_SERVICE_NAME",
  "OPENEDGE_SERVICE_TOKEN",
  "OPENEDGE_SERVICE_INSTANCE_NAME",
]);
const INSTANCE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export const EMPTY_APPLICATION: ApplicationConfig = { version: "", services: [], volumes: [] };

export class ApplicationRunner {
  private current: ApplicationConfig = EMPTY_APPLICATION;
  private readonly states = new Map<string, ServiceState>();
  private readonly reports = new Map<string, Map<string, Record<string, unknown>>>();
  /**
   * Services of a start in progress that are not started yet, each with its turn's end. A built-in
   * started earlier in the list (the function manager) may ask for instances of one of them (its
   * runtime service) before the list reaches it: that request waits for its turn instead of failing.
   */
  private readonly upcoming = new Map<string, Promise<void>>();
  private readonly log: Logger;

  constructor(private readonly deps: RunnerDeps) {
    this.log = deps.log.child({ module: "application" });
  }

  get application(): ApplicationConfig {
    return this.current;
  }

  /** Sets the application whose services the next start/stop calls refer to. */
  setApplication(app: ApplicationConfig): void {
    this.current = app;
  }

  /** Starts the services in order; returns the ones that failed (each already logged). */
  async startServices(services: readonly ServiceConfig[]): Promise<{ service: string; error: string }[]> {
    const failures: { service: string; error: string }[] = [];
    const turns = new Map<string, () => void>();
    for (const service of services) {
      this.upcoming.set(service.name, new Promise<void>((resolve) => turns.set(service.name, resolve)));
    }
    for (const service of services) {
      try {
        await this.startService(service);
      } catch (err) {
        const error = errorMessage(err);
        this.states.set(service.name, { kind: "failed", reason: error });
        this.log.error("service_start_failed", { service: service.name, image: service.image, error });
        failures.push({ service: service.name, error });
      } finally {
        this.upcoming.delete(service.name);
        turns.get(service.name)?.();
      }
    }
    return failures;
  }

  /** Stops the services in reverse order of the list. */
  async stopServices(services: readonly ServiceConfig[]): Promise<void> {
    for (const service of [...services].reverse()) await this.stopService(service.name);
  }

  /** Stops every service that runs, whichever application it came from, the last started first. */
  async stopAll(): Promise<void> {
    for (const name of [...this.states.keys()].reverse()) await this.stopService(name);
  }

  state(service: string): ServiceState | undefined {
    return this.states.get(service);
  }

  /** The service could not start, or every instance of it gave up (restart policy spent). */
  hasFailed(service: string): boolean {
    const state = this.states.get(service);
    if (state?.kind === "failed") return true;
    if (state?.kind !== "engine") return false;
    const instances = this.deps.supervisor.instances(service) ?? [];
    return instances.length > 0 && instances.every((i) => i.status === "failed");
  }

  report(service: string, instance: string, stats: Record<string, unknown>): void {
    if (!this.states.has(service)) {
      throw new OpenEdgeError("ERR_NOT_FOUND", `service "${service}" is not running`, {
        details: { service },
      });
    }
    let byInstance = this.reports.get(service);
    if (byInstance === undefined) {
      byInstance = new Map();
      this.reports.set(service, byInstance);
    }
    byInstance.set(instance, { ...byInstance.get(instance), ...stats });
  }

  /**
   * Starts (or replaces) a dynamic instance of a running engine service: its system env (token,
   * OPENEDGE_*) plus the keys of `env`, except those that name the caller. The API's start and the
   * built-ins' `instances` both come here.
   */
  async startInstance(service: string, instance: string, env: Record<string, string>): Promise<void> {
    await this.upcoming.get(service);
    this.engineService(service);
    if (!INSTANCE_NAME.test(instance)) {
      throw new OpenEdgeError(
        "ERR_BAD_REQUEST",
        `instance name "${instance}": must match ${INSTANCE_NAME.source}`,
      );
    }
    const dynamic = Object.fromEntries(Object.entries(env).filter(([k]) => !PROTECTED_ENV.has(k)));
    await this.deps.supervisor.startInstance(service, instance, dynamic);
  }

  async stopInstance(service: string, instance: string): Promise<void> {
    this.engineService(service);
    await this.deps.supervisor.stopInstance(service, instance);
  }

  /** The running in-process built-in of that image, the first in list order. */
  builtin(image: BuiltinName): InprocService | undefined {
    for (const state of this.states.values())
      if (state.kind === "inproc" && state.image === image) return state.handle;
    return undefined;
  }

  private engineService(service: string): void {
    const state = this.states.get(service);
    if (state === undefined) {
      throw new OpenEdgeError("ERR_NOT_FOUND", `service "${service}" is not running`, {
        details: { service },
      });
    }
    if (state.kind !== "engine") {
      throw new OpenEdgeError(
        "ERR_BAD_REQUEST",
        `service "${service}" has no instances to start or stop (${state.kind})`,
      );
    }
  }

  reported(service: string, instance: string): Record<string, unknown> | undefined {
    return this.reports.get(service)?.get(instance);
  }

  private async startService(service: ServiceConfig): Promise<void> {
    const { supervisor, tokens, catalog, config, host } = this.deps;
    const app = this.current;
    for (const m of service.mounts) {
      const volume = app.volumes.find((v) => v.name === m.name);
      if (volume) mkdirSync(volume.hostPath, { recursive: true });
    }
    const token = tokens.issue(service.name);
    if (placementOf(service) === "engine") {
      const spec = toServiceSpec(service, app, config.grace);
      await supervisor.startService(spec, (instance) =>
        systemEnv({
          hostOs: host.os,
          hostId: host.id,
          mode: config.mode,
          service: service.name,
          instance,
          token,
        }),
      );
      this.states.set(service.name, { kind: "engine" });
      return;
    }
    const builtin = service.builtin ?? "";
    const factory = catalog[service.builtin ?? "openedge-hub"];
    if (factory === undefined) {
      throw new OpenEdgeError("ERR_NOT_FOUND", `built-in module ${builtin} is not part of this build yet`, {
        details: { service: service.name, image: service.image },
      });
    }
    const mounts: Record<string, string> = {};
    for (const m of service.mounts) {
      const volume = app.volumes.find((v) => v.name === m.name);
      if (volume) mounts[m.path] = volume.hostPath;
    }
    const instances: DynamicInstances = {
      start: (s, i, env) => this.startInstance(s, i, env),
      stop: (s, i) => this.stopInstance(s, i),
      status: (s, i) => this.deps.supervisor.instances(s)?.find((x) => x.name === i)?.status,
    };
    const handle = await factory({
      service,
      mounts,
      log: this.deps.log.child({ module: builtin, service: service.name }),
      application: app,
      builtin: (image) => this.builtin(image),
      instances,
    });
    this.states.set(service.name, { kind: "inproc", handle, image: service.builtin ?? "openedge-hub" });
    this.log.info("builtin_started", {
      service: service.name,
      image: service.image,
      config: join(mounts["etc/openedge"] ?? "", "service.yml"),
    });
  }

  private async stopService(name: string): Promise<void> {
    const state = this.states.get(name);
    this.states.delete(name);
    this.reports.delete(name);
    this.deps.tokens.revoke(name);
    if (state?.kind === "engine") await this.deps.supervisor.stopService(name);
    else if (state?.kind === "inproc") await state.handle.stop();
  }
}
