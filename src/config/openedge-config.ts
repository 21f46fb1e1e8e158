// openedge.yml: the master's static settings (engine mode, API server, logs, bus, Docker), each field
// read with its default beside it. Durations resolve to ms, sizes to bytes, paths to absolute paths.

import type { LogFormat, LogLevel } from "../log/index.ts";
import { LOG_LEVELS } from "../log/index.ts";
import { ADDRESS_RULE, type Endpoint, parseAddress, resolveWorkPath } from "./paths.ts";
import type { MapReader } from "./schema-helpers.ts";

export type EngineMode = "native" | "docker";
export type BusCodec = "json" | "msgpack";
/** `auto`: log to the console when stdout is a terminal. */
export type ConsoleMode = "auto" | boolean;

export interface LoggerConfig {
  /** As written, relative to the work dir unless absolute. */
  path: string;
  /** Absolute path of the log file. */
  file: string;
  level: LogLevel;
  format: LogFormat;
  /** Rotate when the file would pass `max` bytes (a plain number in YAML means MB, as in OpenEdge). */
  size: { max: number };
  /** Rotated files kept. */
  backup: { max: number };
  /** Days a rotated file is kept; 0 keeps them until `backup.max` drops them. */
  age: { max: number };
  console: ConsoleMode;
}

export interface ServerConfig {
  /** As written: `unix:///var/run/openedge.sock` (inside the work dir) or `tcp://127.0.0.1:50050`. */
  address: string;
  endpoint: Endpoint;
  /** An extra TCP listener beside `address`, for clients that cannot reach the unix socket. */
  tcp?: { address: string; endpoint: Endpoint };
  /** Request timeout, ms. */
  timeout: number;
}

export interface BusConfig {
  /** As written. */
  address: string;
  /** Absolute path of the bus socket. */
  socket: string;
  codec: BusCodec;
  /** Largest frame body, bytes. */
  frame: { max: number };
  /** Messages a module's queue holds before senders wait. */
  queue: { size: number };
  /** Default timeout of synchronous requests, ms. */
  timeout: number;
}

export interface DockerConfig {
  /** As written: the Docker Engine API, `unix:///var/run/docker.sock` (a host path) or `tcp://…`. */
  host: string;
  endpoint: Endpoint;
  /** Network the containers join. */
  network: string;
}

export interface OpenEdgeConfig {
  mode: EngineMode;
  /** Time services get to stop after SIGTERM before SIGKILL, ms. */
  grace: number;
  server: ServerConfig;
  logger: LoggerConfig;
  otalog: LoggerConfig;
  bus: BusConfig;
  docker: DockerConfig;
}

const MB = 1024 * 1024;
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

interface LoggerDefaults {
  path: string;
  format: LogFormat;
  console: ConsoleMode;
}

export function readOpenEdgeConfig(r: MapReader, workDir: string): OpenEdgeConfig {
  return {
    mode: r.oneOf("mode", ["native", "docker"] as const, "native"),
    grace: r.duration("grace", "30s"),
    server: r.object("server", (s) => readServer(s, workDir)),
    logger: r.object("logger", (l) =>
      readLogger(l, workDir, { path: "var/log/openedge/openedge.log", format: "text", console: "auto" }),
    ),
    otalog: r.object("otalog", (l) =>
      readLogger(l, workDir, { path: "var/db/openedge/ota.log", format: "json", console: false }),
    ),
    bus: r.object("bus", (b) => readBus(b, workDir)),
    docker: r.object("docker", readDocker),
  };
}

function readServer(r: MapReader, workDir: string): ServerConfig {
  const address = r.string("address", { default: "unix:///var/run/openedge.sock" });
  const tcpAddress = r.string("tcp");
  const server: ServerConfig = {
    address,
    endpoint: endpoint(r, "address", address, workDir) ?? defaultApiEndpoint(workDir),
    timeout: r.duration("timeout", "5m"),
  };
  if (tcpAddress !== undefined) {
    const ep = endpoint(r, "tcp", tcpAddress, workDir);
    if (ep?.kind === "unix") r.error("tcp", "must be a tcp:// address such as tcp://127.0.0.1:50050");
    else if (ep !== undefined) server.tcp = { address: tcpAddress, endpoint: ep };
  }
  return server;
}

function readLogger(r: MapReader, workDir: string, d: LoggerDefaults): LoggerConfig {
  const path = r.string("path", {
    default: d.path,
    check: (p) => (p.trim() === "" ? "is required" : undefined),
  });
  const consoleDefault = d.console === "auto" ? "auto" : d.console ? "true" : "false";
  const consoleText = r.oneOf("console", ["auto", "true", "false"] as const, consoleDefault);
  return {
    path,
    file: resolveWorkPath(workDir, path),
    level: r.oneOf("level", LOG_LEVELS, "info"),
    format: r.oneOf("format", ["text", "json"] as const, d.format),
    size: r.object("size", (s) => ({ max: s.size("max", 50, MB) })),
    backup: r.object("backup", (b) => ({ max: b.int("max", 15, { min: 0 }) })),
    age: r.object("age", (a) => ({ max: a.int("max", 15, { min: 0 }) })),
    console: consoleText === "auto" ? "auto" : consoleText === "true",
  };
}

function readBus(r: MapReader, workDir: string): BusConfig {
  const address = r.string("address", { default: "var/run/openedge.bus" });
  const socket = resolveWorkPath(workDir, address.replace(/^unix:\/\/\/*/, ""));
  return {
    address,
    socket,
    codec: r.oneOf("codec", ["json", "msgpack"] as const, "msgpack"),
    frame: r.object("frame", (f) => ({ max: f.size("max", "4m") })),
    queue: r.object("queue", (q) => ({ size: q.int("size", 1024, { min: 1 }) })),
    timeout: r.duration("timeout", "30s"),
  };
}

function readDocker(r: MapReader): DockerConfig {
  const host = r.string("host", { default: "unix:///var/run/docker.sock" });
  return {
    host,
    endpoint: endpoint(r, "host", host) ?? { kind: "unix", path: "/var/run/docker.sock" },
    network: r.string("network", { default: "openedge", pattern: NETWORK_NAME }),
  };
}

function endpoint(r: MapReader, key: string, address: string, workDir?: string): Endpoint | undefined {
  const ep = parseAddress(address, workDir);
  if (ep === null) r.error(key, ADDRESS_RULE);
  return ep ?? undefined;
}

function defaultApiEndpoint(workDir: string): Endpoint {
  return { kind: "unix", path: resolveWorkPath(workDir, "var/run/openedge.sock") };
}
