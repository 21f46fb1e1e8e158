// The JSON shapes host probing reports, with OpenEdge's snake_case keys (`hardware.mem_stats` …) so
// an inspect consumer written for OpenEdge reads them unchanged. Sizes are bytes, percentages 0–100.
// A block that could not be read keeps its zeros and says why in `error`, as OpenEdge's did.

export interface SoftwareFacts {
  /** `process.platform`: `linux`. */
  os: string;
  /** Node-style architecture: `x64`, `arm64`. */
  arch: string;
  /** `uname -m`: `x86_64`, `aarch64`. */
  machine: string;
  bits: 64 | 32;
  kernel_version: string;
  hostname: string;
  host_id: string;
  /** Where the host id came from. */
  host_id_source: HostIdSource;
}

export type HostIdSource = "machine-id" | "dbus-machine-id" | "generated" | "ephemeral";

export interface HostStats {
  hostname: string;
  /** Seconds since boot. */
  uptime: number;
  /** Boot time, seconds since the epoch. */
  boot_time: number;
  process_num: number;
  os: string;
  platform: string;
  platform_family: string;
  platform_version: string;
  kernel_version: string;
  kernel_arch: string;
  host_id: string;
  error?: string;
}

export interface NetAddress {
  family: "ipv4" | "ipv6";
  address: string;
  /** `address/prefix`, as OpenEdge's `addrs[].address` was. */
  cidr: string;
}

export interface NetInterface {
  name: string;
  mac: string;
  addrs: NetAddress[];
  rx_bytes: number;
  tx_bytes: number;
  rx_packets: number;
  tx_packets: number;
  rx_errors: number;
  tx_errors: number;
  rx_dropped: number;
  tx_dropped: number;
}

export interface NetStats {
  interfaces: NetInterface[];
  error?: string;
}

export interface MemStats {
  total: number;
  free: number;
  available: number;
  /** total − available: what programs hold, page cache excluded. */
  used: number;
  used_percent: number;
  buffers: number;
  cached: number;
  swap_total: number;
  swap_free: number;
  swap_used: number;
  swap_used_percent: number;
  error?: string;
}

export interface LoadAverage {
  load1: number;
  load5: number;
  load15: number;
}

export interface CpuStats {
  /** Busy share of all CPUs since the previous reading (since boot on the first). */
  used_percent: number;
  model: string;
  /** Online logical CPUs. */
  cores: number;
  load: LoadAverage;
  error?: string;
}

export interface DiskStats {
  path: string;
  fstype: string;
  total: number;
  /** Space an unprivileged process may still use (f_bavail), as `df` shows it. */
  free: number;
  used: number;
  used_percent: number;
  inodes_total: number;
  inodes_free: number;
  inodes_used: number;
  inodes_used_percent: number;
  error?: string;
}

export type GpuSource = "nvml" | "jetson";

export interface GpuStats {
  index: number;
  /** The product name (OpenEdge's key). */
  model: string;
  /** NVML's `GPU-…` id; empty for Jetson. */
  uuid: string;
  source: GpuSource;
  mem_total: number;
  mem_free: number;
  mem_used: number;
  mem_used_percent: number;
  /** Share of time a kernel ran over the driver's last sample period; null where unsupported. */
  gpu_used_percent: number | null;
  /** Share of time device memory was read or written; null where unsupported (Jetson). */
  mem_util_percent: number | null;
  /** Set when the GPU is present but a query failed (`nvml: GPU is lost (15)`). */
  error?: string;
}

export interface Hardware {
  host_stats: HostStats;
  net_stats: NetStats;
  mem_stats: MemStats;
  cpu_stats: CpuStats;
  disk_stats: DiskStats;
  gpu_stats: GpuStats[];
}

export interface HostInspect {
  software: SoftwareFacts;
  hardware: Hardware;
}

/** One process, for `services[].instances[]`. */
export interface ProcessStats {
  pid: number;
  name: string;
  /** The state letter of /proc/<pid>/stat (R, S, D, Z, …). */
  state: string;
  ppid: number;
  pgid: number;
  threads: number;
  /** Clock ticks after boot (field 22): with the pid, a stable identity that survives pid reuse. */
  start_time: number;
  /** Start time in milliseconds since the epoch. */
  started_at: number;
  /** Share of one CPU since the previous sample (over the process's life on the first); may pass 100. */
  cpu_percent: number;
  /** Resident set size, bytes. */
  rss: number;
  mem_percent: number;
}

/** The processes of one process group, summed. */
export interface ProcessGroupStats {
  pgid: number;
  pids: number[];
  cpu_percent: number;
  rss: number;
  mem_percent: number;
}
