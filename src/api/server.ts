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
  private readonly handler: (req: Request) => Promise<Response>;

  /** `timeoutMs`: how long a request may take to produce its response (openedge.yml `server.timeout`). */
  constructor(
    handler: (req: Request) => Promise<Response>,
    private readonly log: Logger,
    timeoutMs = 0,
  ) {
    this.handler = timeoutMs > 0 ? withDeadline(handler, timeoutMs, log) : handler;
  }

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

/**
 * The response, or 504 once `timeoutMs` has passed without one (the handler's work is not cancelled).
 * A streamed body (`logs?follow`) is a response at once: only producing it is bounded, not reading it.
 */
export function withDeadline(
  handler: (req: Request) => Promise<Response>,
  timeoutMs: number,
  log: Logger,
): (req: Request) => Promise<Response> {
  return async (req) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<Response>((resolve) => {
      timer = setTimeout(() => {
        const path = new URL(req.url).pathname;
        log.warn("api_request_timeout", { method: req.method, path, timeout_ms: timeoutMs });
        resolve(
          Response.json(
            {
              error: `${req.method} ${path} took longer than server.timeout (${timeoutMs} ms)`,
              code: "ERR_TIMEOUT",
            },
            { status: 504 },
          ),
        );
      }, timeoutMs);
    });
    try {
      return await Promise.race([handler(req), late]);
    } finally {
      clearTimeout(timer);
    }
  };
}
