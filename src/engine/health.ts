// "Did the service come up?": resolves once every instance of a service has stayed running for a
// while, rejects as soon as one ends. The update logic uses it to decide on a rollback.

import type { Clock, TimerHandle } from "../lib/clock.ts";
import { OpenEdgeError } from "../lib/errors.ts";
import type { InstanceStatus, StatusEvent } from "./instance-slot.ts";

export interface HealthOptions {
  /** Give up (ERR_TIMEOUT) after this long. */
  timeoutMs: number;
  /** How long each instance must have been running without a break. */
  stableMs: number;
}

export interface HealthView {
  clock: Clock;
  /** The service's instances now, undefined when the service is not supervised. */
  instances(service: string): { name: string; status: InstanceStatus; runningForMs: number }[] | undefined;
  onStatus(listener: (event: StatusEvent) => void): () => void;
}

const ENDED: ReadonlySet<InstanceStatus> = new Set(["restarting", "exited", "failed", "stopping", "stopped"]);

export function waitHealthy(view: HealthView, service: string, options: HealthOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let recheck: TimerHandle | undefined;
    let unsubscribe: () => void = () => {};
    const timeout = view.clock.setTimeout(() => {
      finish(
        new OpenEdgeError(
          "ERR_TIMEOUT",
          `service "${service}" did not become healthy in ${options.timeoutMs}ms`,
          {
            details: { service },
          },
        ),
      );
    }, options.timeoutMs);

    function finish(error?: Error): void {
      timeout.cancel();
      recheck?.cancel();
      unsubscribe();
      if (error === undefined) resolve();
      else reject(error);
    }

    function check(): void {
      const instances = view.instances(service);
      if (instances === undefined) {
        finish(
          new OpenEdgeError("ERR_NOT_FOUND", `service "${service}" is not running`, { details: { service } }),
        );
        return;
      }
      const ended = instances.find((i) => ENDED.has(i.status));
      if (ended !== undefined) {
        finish(failure(service, ended.name, ended.status));
        return;
      }
      let waitMs = 0;
      for (const i of instances) {
        const left = i.status === "running" ? options.stableMs - i.runningForMs : options.stableMs;
        waitMs = Math.max(waitMs, left);
      }
      if (waitMs <= 0) {
        finish();
        return;
      }
      // Instances still starting are rechecked on their status event; running ones when due.
      recheck?.cancel();
      recheck = view.clock.setTimeout(check, waitMs);
    }

    unsubscribe = view.onStatus((event) => {
      if (event.service !== service) return;
      if (ENDED.has(event.status)) finish(failure(service, event.instance, event.status, event));
      else check();
    });
    check();
  });
}

function failure(
  service: string,
  instance: string,
  status: InstanceStatus,
  event?: StatusEvent,
): OpenEdgeError {
  const exit = event?.exit;
  const how =
    exit === undefined
      ? status
      : exit.error !== undefined
        ? `failed to start: ${exit.error}`
        : exit.signal !== null
          ? `killed by ${exit.signal}`
          : `exited with code ${exit.code}`;
  return new OpenEdgeError("ERR_ENGINE", `service "${service}" instance "${instance}" ${how}`, {
    details: { service, instance, status, exit },
  });
}
