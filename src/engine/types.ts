// The engine's own input and output types. The master maps application.yml onto ServiceSpec; engines
// and the supervisor never see YAML.

export type RestartPolicy = "always" | "on-failure" | "no";

export interface BackoffSpec {
  /** Delay before the first restart. */
  minMs: number;
  /** Upper bound of any delay. */
  maxMs: number;
  /** Growth per consecutive restart. */
  factor: number;
  /** Random spread as a fraction of the delay (0.1 = ±10%); default 0.1. */
  jitter?: number;
}

export interface RestartSpec {
  policy: RestartPolicy;
  /** Restarts allowed after the first start (0 = unlimited): retryMax 2 means at most 3 starts. */
  retryMax: number;
  backoff: BackoffSpec;
}

export interface MountSpec {
  /** Absolute host path of the volume. */
  hostPath: string;
  /** Where the volume appears, relative to the instance dir (native) or the container root (docker). */
  path: string;
  readonly: boolean;
}

export interface ResourceSpec {
  cpu?: { cpus?: number; setcpus?: string };
  /** swapBytes is swap allowed on top of limitBytes (0 = no swap). */
  memory?: { limitBytes?: number; swapBytes?: number };
  pids?: { limit?: number };
}

export interface ServiceSpec {
  name: string;
  image: string;
  replica: number;
  mounts: MountSpec[];
  /** Docker only (`8080:80`, `1883`); the native engine ignores them. */
  ports: string[];
  /** Docker only (`/dev/video0`); the native engine ignores them. */
  devices: string[];
  args: string[];
  env: Record<string, string>;
  restart: RestartSpec;
  resources: ResourceSpec;
  /** Docker runtime (`nvidia`); ignored by the native engine. */
  runtime?: string;
  /** How long an instance gets between SIGTERM and SIGKILL. */
  graceMs: number;
}

export const DEFAULT_BACKOFF: BackoffSpec = { minMs: 1000, maxMs: 300_000, factor: 2, jitter: 0.1 };
export const DEFAULT_RESTART: RestartSpec = { policy: "always", retryMax: 0, backoff: DEFAULT_BACKOFF };

export interface ExitInfo {
  /** Exit code, null when killed by a signal or when the instance never started. */
  code: number | null;
  /** Signal name (`SIGKILL`), null on a normal exit. */
  signal: string | null;
  /** The kernel's OOM killer ended it (known where the cgroup reports oom kills). */
  oomKilled?: boolean;
  /** Why the instance could not be started at all. */
  error?: string;
}

/** What an engine did with ServiceSpec.resources; shown in inspect so no limit is silently ignored. */
export interface LimitsReport {
  /** True when every requested limit is in force (vacuously true when none was requested). */
  enforced: boolean;
  /** The mechanism in use. */
  via: "cgroup-v1" | "cgroup-v2" | "docker" | "none";
  /** Why some or all requested limits are not in force. */
  reason?: string;
  applied: {
    cpus?: number;
    setcpus?: string;
    memoryBytes?: number;
    swapBytes?: number;
    pids?: number;
  };
  skipped: { limit: string; reason: string }[];
}

export interface InstanceStats {
  /** CPU over the last sample interval, in percent of one core (200 = two cores busy). */
  cpuPercent: number;
  /** Resident memory summed over the instance's processes. */
  memRssBytes: number;
  /** Memory the cgroup (or container) is charged for, page cache included, where known. */
  memUsageBytes?: number;
  memLimitBytes?: number;
  /** Live processes in the instance. */
  processes: number;
}

/** One running instance as kept in var/db/openedge/application.stats, for recovery after a crash. */
export interface InstanceRecord {
  engine: "native" | "docker";
  service: string;
  instance: string;
  pid?: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot): tells a live pid from a recycled one. */
  startTime?: number;
  /** Cgroup directories created for the instance (ours alone, removed on recovery). */
  cgroups?: string[];
  containerId?: string;
}
