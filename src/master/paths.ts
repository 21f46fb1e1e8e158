// The work-dir layout (OpenEdge's, kept): every path the master reads or writes, derived from one root.

import { join } from "node:path";

export interface WorkPaths {
  root: string;
  configFile: string;
  applicationFile: string;
  applicationOldFile: string;
  statsFile: string;
  pidFile: string;
  runDir: string;
  servicesRunDir: string;
  adminTokenFile: string;
  logDir: string;
  dbDir: string;
}

export function workPaths(root: string): WorkPaths {
  return {
    root,
    configFile: join(root, "etc/openedge/openedge.yml"),
    applicationFile: join(root, "var/db/openedge/application.yml"),
    applicationOldFile: join(root, "var/db/openedge/application.yml.old"),
    statsFile: join(root, "var/db/openedge/application.stats"),
    pidFile: join(root, "var/run/openedge.pid"),
    runDir: join(root, "var/run/openedge"),
    servicesRunDir: join(root, "var/run/openedge/services"),
    adminTokenFile: join(root, "var/run/openedge/admin.token"),
    logDir: join(root, "var/log/openedge"),
    dbDir: join(root, "var/db/openedge"),
  };
}
