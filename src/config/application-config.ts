// application.yml: the services and volumes the master runs (replaced by OTA updates). Volumes are read
// first so every mount can be checked against them; names must be unique, volumes stay in the work dir.

import { insideWorkDir } from "./paths.ts";
import type { MapReader } from "./schema-helpers.ts";
import { readService, type ServiceConfig } from "./service-config.ts";

export interface VolumeMeta {
  /** Where the agent downloads the volume's package from. */
  url?: string;
  /** Digest of that package. */
  md5?: string;
  version?: string;
}

export interface VolumeConfig {
  name: string;
  /** As written, relative to the work dir. */
  path: string;
  /** Absolute path on the host, inside the work dir. */
  hostPath: string;
  meta?: VolumeMeta;
}

export interface ApplicationConfig {
  version: string;
  services: ServiceConfig[];
  volumes: VolumeConfig[];
}

export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;
const MD5 = /^[a-fA-F0-9]{32}$/;

export function readApplicationConfig(r: MapReader, workDir: string): ApplicationConfig {
  const volumes = readVolumes(r, workDir);
  const declared = new Set(volumes.map((v) => v.name));
  const names = new Map<string, number>();
  const services = r.objects("services", (s, index) => {
    const service = readService(s, declared);
    const first = names.get(service.name);
    if (first !== undefined) s.error("name", `"${service.name}" is already used by services[${first}]`);
    else if (service.name !== "") names.set(service.name, index);
    return service;
  });
  return { version: r.string("version", { default: "" }), services, volumes };
}

function readVolumes(r: MapReader, workDir: string): VolumeConfig[] {
  const names = new Map<string, number>();
  return r.objects("volumes", (v, index) => {
    const name = v.string("name", { required: true, pattern: VOLUME_NAME });
    const first = names.get(name);
    if (first !== undefined) v.error("name", `"${name}" is already used by volumes[${first}]`);
    else if (name !== "") names.set(name, index);
    const path = v.string("path", {
      required: true,
      check: (p) => (insideWorkDir(workDir, p) === null ? "must stay inside the work dir" : undefined),
    });
    const volume: VolumeConfig = { name, path, hostPath: insideWorkDir(workDir, path) ?? "" };
    if (v.has("meta")) volume.meta = v.object("meta", readMeta);
    else v.allow("meta");
    return volume;
  });
}

function readMeta(r: MapReader): VolumeMeta {
  const meta: VolumeMeta = {};
  const url = r.string("url", {
    check: (u) => (isUrl(u) ? undefined : "must be an http, https or file URL"),
  });
  const md5 = r.string("md5", { pattern: MD5 });
  const version = r.string("version");
  if (url !== undefined) meta.url = url;
  if (md5 !== undefined) meta.md5 = md5;
  if (version !== undefined) meta.version = version;
  return meta;
}

function isUrl(text: string): boolean {
  try {
    return ["http:", "https:", "file:"].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}
