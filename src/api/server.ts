// Serves the API routes over HTTP/1.1 on a unix socket (mode 0600, a stale file removed first) and,
// where configured, on TCP.

import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Server } from "bun";
import { OpenEdgeError } from "../lib/errors.ts";
import type { Logger } from "../log/index.ts";

export type ApiAddress = { kind: "unix"; path: string } | { kind: "tcp"; hostname: string; port: number };

/** `unix:///abs/path`, `unix://rel/path` (relative to workDir) or `tcp://host:port`. */
export function parseApiAddress(address: string, workDir: string): ApiAddress {
  if (address.startsWith("unix://")) {
    const rest = address.slice("unix://".length);
    // OpenEdge wrote unix:///var/run/openedge.sock meaning <workdir>/var/run/openedge.sock
    const path = rest.startsWith(workDir) ? rest : `${workDir}/${rest.replace(/^\/+/, "")}`;
    return { kind: "unix", path };
  }
  const m = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(address);
  if (m) return { kind: "tcp", hostname: (m[1] ?? "").replace(/^\[|\]$/g, ""), port: Number(m[2]) };
  throw new OpenEdgeError("ERR_CONFIG", `api address "${address}": must be unix://PATH or tcp://HOST:PORT`);
}

export class ApiServer {
  private servers: Server<undefined>[] = [];
  private socketPaths: string[] = [];

  constructor(
    private readonly handler: (req: Request) => Promise<Response>,
    private readonly log: Logger,
  ) {}

  listen(address: ApiAddress): string {
    if (address.kind === "unix") {
      mkdirSync(dirname(address.path), { recursive: true });
      rmSync(address.path, { force: true });
      const server = Bun.serve({ unix: address.path, fetch: this.handler });
      chmodSync(address.path, 0o600);
      this.servers.push(server);
      this.socketPaths.push(address.path);
      this.log.info("api_listening", { address: `unix://${address.path}` });
      return `unix://${address.path}`;
    }
    const server = Bun.serve({ hostname: address.hostname, port: address.port, fetch: this.handler });
    this.servers.push(server);
    const url = `tcp://${address.hostname}:${server.port}`;
    this.log.info("api_listening", { address: url, port: server.port });
    return url;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop(true)));
    for (const p of this.socketPaths) rmSync(p, { force: true });
    this.servers = [];
    this.socketPaths = [];
  }
}
