// The master's side of the REST API: each endpoint mapped onto the runner, supervisor and updater.

import { createServer } from "node:net";
import type { ApiBackend, LogsRequest, UpdateRequest } from "../api/index.ts";
import type { Supervisor } from "../engine/index.ts";
import type { ApplicationRunner } from "./application-runner.ts";
import { serviceLogs } from "./instance-logs.ts";
import { renderMetrics } from "./metrics.ts";
import type { Updater } from "./updater.ts";

export interface BackendDeps {
  runner: ApplicationRunner;
  supervisor: Supervisor;
  updater: Updater;
  inspect: () => Promise<Record<string, unknown>>;
  busStats?: () => Record<string, Record<string, number>>;
  logDir: string;
}

/** A free TCP port on this host, as OpenEdge's /ports/available gave to services that need one. */
export function availablePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class MasterApiBackend implements ApiBackend {
  constructor(private readonly deps: BackendDeps) {}

  inspect(): Promise<Record<string, unknown>> {
    return this.deps.inspect();
  }

  update(request: UpdateRequest): Promise<void> {
    return this.deps.updater.update(request);
  }

  availablePort(): Promise<number> {
    return availablePort();
  }

  startInstance(service: string, instance: string, env: Record<string, string>): Promise<void> {
    return this.deps.runner.startInstance(service, instance, env);
  }

  stopInstance(service: string, instance: string): Promise<void> {
    return this.deps.runner.stopInstance(service, instance);
  }

  async report(service: string, instance: string, stats: Record<string, unknown>): Promise<void> {
    this.deps.runner.report(service, instance, stats);
  }

  async logs(service: string, request: LogsRequest): Promise<ReadableStream<Uint8Array> | string> {
    return serviceLogs(this.deps.logDir, service, request);
  }

  async metrics(): Promise<string> {
    return renderMetrics(await this.deps.inspect(), this.deps.busStats?.());
  }
}
