// Builds /v1/system/inspect in OpenEdge's shape: software, hardware (host probe), services with their
// instances (engine status and stats, merged with what each instance reported), volumes, last error.

import type { BusStats } from "../beehive/index.ts";
import type { OpenEdgeConfig } from "../config/index.ts";
import type { Supervisor } from "../engine/index.ts";
import type { HostProbe } from "../probe/index.ts";
import { REVISION, VERSION } from "../version.ts";
import type { ApplicationRunner } from "./application-runner.ts";
import { placementOf } from "./builtin-host.ts";

export interface InspectDeps {
  runner: ApplicationRunner;
  supervisor: Supervisor;
  probe: HostProbe;
  config: OpenEdgeConfig;
  workDir: string;
  now: () => number;
  lastError: () => string | null;
  bus?: () => BusStats;
}

export async function buildInspect(deps: InspectDeps): Promise<Record<string, unknown>> {
  const { runner, supervisor, probe, config } = deps;
  const app = runner.application;
  const host = probe.inspect();
  const supervised = new Map((await supervisor.inspect()).map((s) => [s.name, s]));
  const services = app.services.map((service) => {
    const state = runner.state(service.name);
    const entry: Record<string, unknown> = {
      name: service.name,
      image: service.image,
      replica: service.replica,
      placement: placementOf(service),
    };
    if (state?.kind === "failed") {
      entry.status = "failed";
      entry.error = state.reason;
    } else if (state?.kind === "inproc") {
      entry.status = "running";
      Object.assign(entry, state.handle.inspect?.() ?? {});
    }
    const instances = supervised.get(service.name)?.instances ?? [];
    entry.instances = instances.map((inst) => ({ ...inst, ...runner.reported(service.name, inst.name) }));
    return entry;
  });
  return {
    time: new Date(deps.now()).toISOString(),
    software: {
      ...host.software,
      pwd: deps.workDir,
      mode: config.mode,
      bin_version: VERSION,
      git_revision: REVISION,
      bun_version: Bun.version,
      conf_version: app.version,
    },
    hardware: host.hardware,
    services,
    ...(deps.bus ? { bus: deps.bus() } : {}),
    volumes: app.volumes.map((v) => ({ name: v.name, path: v.path, version: v.meta?.version ?? "" })),
    error: deps.lastError() ?? "",
  };
}
