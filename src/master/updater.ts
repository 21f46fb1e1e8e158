// Application updates (type APP), one at a time: validate the new application before anything stops,
// restart only the services that changed, wait for the new ones to come up, and on failure restore
// application.yml.old and the services that ran before it. Every step goes to the OTA log.

import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { UpdateRequest } from "../api/index.ts";
import {
  type ApplicationConfig,
  ConfigError,
  parseApplicationConfig,
  type ServiceConfig,
} from "../config/index.ts";
import type { Supervisor } from "../engine/index.ts";
import { errorMessage, OpenEdgeError } from "../lib/errors.ts";
import type { Logger } from "../log/index.ts";
import type { ApplicationRunner } from "./application-runner.ts";
import { placementOf } from "./builtin-host.ts";
import type { OtaLog } from "./ota-log.ts";
import type { WorkPaths } from "./paths.ts";
import { diffApplications } from "./service-spec.ts";

export interface UpdaterDeps {
  runner: ApplicationRunner;
  supervisor: Supervisor;
  paths: WorkPaths;
  ota: OtaLog;
  env: Record<string, string | undefined>;
  log: Logger;
  /** How long a new or changed service gets to prove it runs (each instance running for healthyMs). */
  healthTimeoutMs: number;
  healthyMs: number;
}

export class Updater {
  private queue: Promise<unknown> = Promise.resolve();
  private lastError: string | null = null;
  private stopping = false;
  private interrupt!: () => void;
  /** Settles when the master begins to stop: an update in flight stops waiting for health then. */
  private readonly interrupted = new Promise<void>((resolve) => {
    this.interrupt = resolve;
  });
  private readonly log: Logger;

  constructor(private readonly deps: UpdaterDeps) {
    this.log = deps.log.child({ module: "updater" });
  }

  /** The last update's error, for inspect; cleared by a successful update. */
  get error(): string | null {
    return this.lastError;
  }

  /**
   * For the master's shutdown: refuses new updates, cuts an update in flight short (it restores the
   * previous application.yml for the next start but starts nothing) and resolves once it has settled.
   */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.interrupt();
    await this.queue;
  }

  /** Serialized: a second update waits for the first and never interleaves with it. */
  update(request: UpdateRequest): Promise<void> {
    const run = this.queue.then(() => this.run(request));
    this.queue = run.catch(() => {});
    return run;
  }

  private async run(request: UpdateRequest): Promise<void> {
    const { ota, paths } = this.deps;
    const trace = request.trace;
    const base = { type: request.type, ...(trace !== undefined ? { trace } : {}) };
    ota.write({ step: "UPDATING", ...base, message: request.path });
    this.log.info("update_started", { path: request.path, ...base });
    if (this.stopping) {
      return this.fail(base, new OpenEdgeError("ERR_CONFLICT", "the master is stopping: no update now"));
    }
    if (request.type === "MST") {
      return this.fail(
        base,
        new OpenEdgeError("ERR_BAD_REQUEST", "master (MST) updates are not supported by this build"),
      );
    }
    const file = isAbsolute(request.path) ? request.path : join(paths.root, request.path);
    let next: ApplicationConfig;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
      next = parseApplicationConfig(text, { env: this.deps.env, workDir: paths.root, file }).app;
    } catch (err) {
      const error =
        err instanceof ConfigError
          ? new OpenEdgeError("ERR_CONFIG", err.message, { cause: err, details: { issues: err.issues } })
          : new OpenEdgeError(
              "ERR_BAD_REQUEST",
              `cannot read the new application ${file}: ${errorMessage(err)}`,
              { cause: err },
            );
      return this.fail(base, error);
    }

    const { runner } = this.deps;
    const previous = runner.application;
    const diff = diffApplications(previous, next);
    // an unchanged service that failed is started again: the update may be the fix (a package put in
    // place, a volume's content replaced), and applying the same application is how to ask for it
    const retried = diff.unchanged.filter((s) => runner.hasFailed(s.name));
    diff.unchanged = diff.unchanged.filter((s) => !retried.includes(s));
    diff.changed.push(...retried);
    this.log.info("update_plan", {
      added: diff.added.map((s) => s.name),
      changed: diff.changed.map((s) => s.name),
      removed: diff.removed.map((s) => s.name),
      unchanged: diff.unchanged.map((s) => s.name),
      retried: retried.map((s) => s.name),
    });

    // keep the running application as .old, then put the new one in place atomically
    if (existsSync(paths.applicationFile)) copyFileSync(paths.applicationFile, paths.applicationOldFile);
    this.writeApplication(text);

    const outgoing = previous.services.filter(
      (s) => diff.changed.some((c) => c.name === s.name) || diff.removed.includes(s),
    );
    const incoming = next.services.filter((s) => diff.changed.includes(s) || diff.added.includes(s));
    await runner.stopServices(outgoing);
    runner.setApplication(next);
    const failures = await runner.startServices(incoming);
    const problem =
      (this.stopping ? "the master is stopping" : undefined) ??
      failures[0]?.error ??
      (await this.firstUnhealthy(incoming));
    if (problem === null) {
      this.lastError = null;
      ota.write({ step: "UPDATED", ...base });
      this.log.info("update_done", { version: next.version, ...base });
      return;
    }

    ota.write({ step: "ROLLINGBACK", ...base, error: problem });
    this.log.warn("update_rolling_back", { error: problem, ...base });
    if (existsSync(paths.applicationOldFile)) renameSync(paths.applicationOldFile, paths.applicationFile);
    if (this.stopping) {
      // the shutdown stops what runs; the next start runs the previous application from disk
      const error = new OpenEdgeError("ERR_CONFLICT", `update interrupted by shutdown: ${problem}`);
      return this.fail(base, error);
    }
    await runner.stopServices(incoming);
    runner.setApplication(previous);
    const rollbackFailures = await runner.startServices(outgoing);
    const error = new OpenEdgeError("ERR_CONFLICT", `update failed and was rolled back: ${problem}`, {
      details: { rollback_failures: rollbackFailures },
    });
    ota.write({ step: "ROLLEDBACK", ...base, error: problem });
    this.log.warn("update_rolled_back", { ...base, rollback_failures: rollbackFailures.length });
    this.lastError = error.message;
    throw error;
  }

  private async firstUnhealthy(services: readonly ServiceConfig[]): Promise<string | null> {
    const { supervisor, healthTimeoutMs, healthyMs } = this.deps;
    const checks = services
      .filter((s) => s.replica > 0 && placementOf(s) === "engine")
      .map((s) =>
        supervisor.waitHealthy(s.name, { timeoutMs: healthTimeoutMs, stableMs: healthyMs }).then(
          () => null,
          (err: unknown) => errorMessage(err),
        ),
      );
    const results = await Promise.race([
      Promise.all(checks),
      this.interrupted.then(() => ["the master is stopping"]),
    ]);
    return results.find((r) => r !== null) ?? null;
  }

  private writeApplication(text: string): void {
    const tmp = `${this.deps.paths.applicationFile}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.deps.paths.applicationFile);
  }

  private fail(base: { type: "APP" | "MST"; trace?: string }, error: OpenEdgeError): never {
    this.deps.ota.write({ step: "FAILURE", ...base, error: error.message });
    this.log.warn("update_failed", { ...base, error: error.message });
    this.lastError = error.message;
    throw error;
  }
}
