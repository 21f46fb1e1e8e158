// Serves the API routes over HTTP/1.1 on a unix socket (mode 0600, a stale file removed first) and,
// where configured, on TCP.

import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Server } from "bun";
import type { Endpoint } from "../config/index.ts";
import type { Logger } from "../log/index.ts";

export class ApiServer {
  private servers: Server<undefined>[] = [];
  private socketPaths: string[] = [];

  constructor(
    private readonly handler: (req: Request) => Promise<Response>,
    private readonly log: Logger,
  ) {}

  listen(address: Endpoint): string {
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
    const server = Bun.serve({ hostname: address.host, port: address.port, fetch: this.handler });
    this.servers.push(server);
    const url = `tcp://${address.host}:${server.port}`;
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
