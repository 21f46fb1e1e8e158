// The real core behind the openedge-hub built-in: the Hub with service.yml's limits and routes, on
// the SQLite store kept under storage.dir.

import { Hub } from "./hub.ts";
import type { BuildHubOptions, HubInstance } from "./module.ts";
import { SqlitePersistence } from "./persistence-sqlite.ts";

export function buildCoreHub(options: BuildHubOptions): HubInstance {
  const { config, authenticator, clock, log, storageDir } = options;
  const persistence = new SqlitePersistence({
    dir: storageDir,
    ...(config.storage.synchronous ? { synchronous: config.storage.synchronous } : {}),
    checkpoints: "worker",
    onProblem: (event, error) => log.warn(event, { error }),
    onCheckpoint: (frames, checkpointed) => log.debug("hub_checkpoint", { frames, checkpointed }),
  });
  return new Hub({
    limits: config.limits,
    authenticator,
    persistence,
    routes: config.subscriptions,
    clock,
    log,
    sysIntervalMs: config.metrics.report.intervalMs,
    busyPollMs: config.busyPollMs,
  });
}
