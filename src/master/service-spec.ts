// Maps application.yml's service entries onto the engine's ServiceSpec (volumes resolved to host paths),
// and tells whether a service changed between two applications: its spec, or a volume's path under it.

import type { ApplicationConfig, ServiceConfig } from "../config/index.ts";
import type { ServiceSpec } from "../engine/index.ts";

export function toServiceSpec(service: ServiceConfig, app: ApplicationConfig, graceMs: number): ServiceSpec {
  const volumes = new Map(app.volumes.map((v) => [v.name, v]));
  const { cpu, memory, pids } = service.resources;
  const spec: ServiceSpec = {
    name: service.name,
    image: service.image,
    replica: service.replica,
    // validation guarantees each mount names a declared volume
    mounts: service.mounts.map((m) => ({
      hostPath: volumes.get(m.name)?.hostPath ?? "",
      path: m.path,
      readonly: m.readonly,
    })),
    ports: service.ports.map((p) => p.spec),
    devices: service.devices.map((d) => d.spec),
    args: [...service.args],
    env: { ...service.env },
    restart: {
      policy: service.restart.policy,
      retryMax: service.restart.retry.max,
      backoff: {
        minMs: service.restart.backoff.min,
        maxMs: service.restart.backoff.max,
        factor: service.restart.backoff.factor,
      },
    },
    resources: {
      ...(cpu.cpus !== undefined || cpu.setcpus !== undefined ? { cpu: { ...cpu } } : {}),
      ...(memory.limit !== undefined || memory.swap !== undefined
        ? {
            memory: {
              ...(memory.limit !== undefined ? { limitBytes: memory.limit } : {}),
              ...(memory.swap !== undefined ? { swapBytes: memory.swap } : {}),
            },
          }
        : {}),
      ...(pids.limit !== undefined ? { pids: { limit: pids.limit } } : {}),
    },
    graceMs,
  };
  if (service.runtime !== undefined) spec.runtime = service.runtime;
  return spec;
}

/** A stable fingerprint of what running a service depends on; equal fingerprints need no restart. */
export function serviceFingerprint(service: ServiceConfig, app: ApplicationConfig): string {
  const volumes = new Map(app.volumes.map((v) => [v.name, v]));
  const mounted = service.mounts.map((m) => {
    const v = volumes.get(m.name);
    return { name: m.name, path: v?.path, version: v?.meta?.version, md5: v?.meta?.md5 };
  });
  return JSON.stringify({ service, mounted });
}

export interface ApplicationDiff {
  /** In the new application's order. */
  added: ServiceConfig[];
  changed: ServiceConfig[];
  unchanged: ServiceConfig[];
  /** In the old application's order. */
  removed: ServiceConfig[];
}

export function diffApplications(before: ApplicationConfig, after: ApplicationConfig): ApplicationDiff {
  const old = new Map(before.services.map((s) => [s.name, s]));
  const diff: ApplicationDiff = { added: [], changed: [], unchanged: [], removed: [] };
  for (const s of after.services) {
    const prev = old.get(s.name);
    if (prev === undefined) diff.added.push(s);
    else if (serviceFingerprint(prev, before) === serviceFingerprint(s, after)) diff.unchanged.push(s);
    else diff.changed.push(s);
  }
  const kept = new Set(after.services.map((s) => s.name));
  diff.removed = before.services.filter((s) => !kept.has(s.name));
  return diff;
}
