// The native engine: services as processes on the host. Resolves packages, lays out instance dirs,
// puts each instance in its own session/process group and cgroup, captures its output, and reaps
// what crashed predecessors or daemonising services leave behind.

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Clock } from "../../lib/clock.ts";
import { OpenEdgeError } from "../../lib/errors.ts";
import { type Logger, RotatingFile } from "../../log/index.ts";
import type { Engine, LeftoverReport } from "../engine.ts";
import type { InstanceRecord, LimitsReport, ServiceSpec } from "../types.ts";
import { type CgroupHandle, type CgroupManager, detectCgroups, unenforcedReport } from "./cgroups/index.ts";
import { trackSpawned, untrackSpawned } from "./children.ts";
import { assertSegment, createInstanceDir, instanceDirPath, removeInstanceDir } from "./instance-dir.ts";
import { composeEnv, type ExecShell, findExecShell, joinCgroupsLater, launchPlan } from "./launcher.ts";
import { reapLeftovers } from "./leftovers.ts";
import { forgetProcesses } from "./members.ts";
import { NativeInstance } from "./native-instance.ts";
import { OrphanReaper } from "./orphan-reaper.ts";
import { OutputCapture } from "./output.ts";
import { resolvePackage } from "./package.ts";
import { readStat } from "./procfs.ts";

export interface NativeEngineDeps {
  /** The master's work dir (`-w`): instance dirs, logs and the state file live under it. */
  workDir: string;
  /** The API socket each instance reaches as `var/run/openedge.sock`. */
  apiSocketPath: string;
  log: Logger;
  clock: Clock;
  /** The master's environment (only cli/ reads process.env); instances inherit it. */
  hostEnv: Record<string, string>;
  /** Images that run the openedge executable itself and need no package. */
  isBuiltin?: (image: string) => boolean;
  /** How a built-in instance starts; called once its dir exists (`dir`) with its whole environment. */
  builtinCommand?: (spec: ServiceSpec, instance: string, at: BuiltinLaunchSite) => BuiltinLaunch;
  /** Size rotation of instance logs (default 10 MiB, 5 files kept). */
  logLimits?: { maxBytes: number; keep: number };
  /** Cgroup support; detected from /proc/self when absent. */
  cgroups?: CgroupManager;
  /** Folder under the master's own cgroup that holds instance groups (default `openedge`). */
  cgroupParent?: string;
  /** How often adopted zombies are looked for between instance ends (default 2 s). */
  reapIntervalMs?: number;
  /** Shell used to join cgroups before exec; probed when absent. */
  shell?: ExecShell;
}

export interface BuiltinLaunchSite {
  /** The instance dir (its mounts and the API socket link are in place). */
  dir: string;
  env: Readonly<Record<string, string>>;
}

export interface BuiltinLaunch {
  /** e.g. `[process.execPath, "module", "hub"]`. */
  argv: string[];
  /**
   * argv[0] the process sees; default the instance name. An interpreter that finds its prefix (or its
   * venv) from argv[0], such as python3, keeps its own path here.
   */
  argv0?: string;
  /**
   * The process starts no other process of its own while it starts up, so with no limits to enforce
   * its cgroups (accounting only) may be joined just after the start rather than before exec.
   */
  lateCgroupJoin?: boolean;
}

export const DEFAULT_LOG_LIMITS = { maxBytes: 10 * 1024 * 1024, keep: 5 };

export class NativeEngine implements Engine {
  readonly name = "native" as const;
  readonly cgroups: CgroupManager;
  private readonly log: Logger;
  private readonly shell: ExecShell;
  private readonly reaper: OrphanReaper;
  private readonly parent: string;

  constructor(private readonly deps: NativeEngineDeps) {
    this.log = deps.log.child({ component: "engine", engine: "native" });
    this.parent = deps.cgroupParent ?? "openedge";
    const sleep = (ms: number) => deps.clock.sleep(ms);
    this.cgroups = deps.cgroups ?? detectCgroups({ log: this.log, sleep, parent: this.parent });
    this.shell = deps.shell ?? findExecShell();
    this.reaper = new OrphanReaper({
      clock: deps.clock,
      log: this.log,
      ...(deps.reapIntervalMs === undefined ? {} : { intervalMs: deps.reapIntervalMs }),
    });
    this.reaper.start();
    this.log.info("engine_ready", {
      cgroup: this.cgroups.version,
      cgroup_note: this.cgroups.reason,
      exec_shell: this.shell.argv.join(" "),
      argv0: this.shell.execA ? "instance name" : "entry path (no shell with exec -a)",
    });
  }

  async prepare(spec: ServiceSpec): Promise<void> {
    assertSegment("service", spec.name);
    if (this.isBuiltin(spec.image)) {
      if (this.deps.builtinCommand === undefined) {
        throw new OpenEdgeError(
          "ERR_CONFIG",
          `service "${spec.name}": no command for built-in image "${spec.image}"`,
          {
            details: { service: spec.name, image: spec.image },
          },
        );
      }
      return;
    }
    resolvePackage(spec);
  }

  async startInstance(
    spec: ServiceSpec,
    instance: string,
    env: Record<string, string>,
  ): Promise<NativeInstance> {
    assertSegment("service", spec.name);
    assertSegment("instance", instance);
    const { workDir, clock } = this.deps;
    const dir = instanceDirPath(workDir, spec.name, instance);
    const fullEnv = composeEnv(this.deps.hostEnv, spec.env, env);
    createInstanceDir(dir, spec.mounts, this.deps.apiSocketPath);
    let launch: BuiltinLaunch;
    try {
      launch = this.command(spec, instance, dir, fullEnv);
    } catch (err) {
      removeInstanceDir(dir);
      throw err;
    }

    const { cgroup, limits } = this.cgroupFor(spec, instance);
    if (!limits.enforced) {
      this.log.warn("limits_not_enforced", { service: spec.name, instance, reason: limits.reason });
    }
    let logFile: RotatingFile | undefined;
    let joinFirst = false;
    let proc: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
    try {
      logFile = new RotatingFile({
        path: join(workDir, "var/log/openedge", spec.name, `${instance}.log`),
        ...(this.deps.logLimits ?? DEFAULT_LOG_LIMITS),
      });
      // limits must hold from the first instruction, and whatever the process forks must land in its
      // cgroups: join before exec — unless no limit applies and the launch says it forks nothing
      // before it serves (see joinCgroupsLater)
      joinFirst =
        cgroup !== null && (Object.keys(limits.applied).length > 0 || launch.lateCgroupJoin !== true);
      const plan = launchPlan(
        launch.argv,
        launch.argv0 ?? instance,
        joinFirst ? (cgroup?.procsFiles ?? []) : [],
        this.shell,
      );
      proc = Bun.spawn({
        cmd: plan.cmd,
        argv0: plan.argv0,
        cwd: dir,
        env: fullEnv,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        // setsid(): the instance leads its own session and process group, so stop can signal it whole.
        detached: true,
      });
    } catch (err) {
      logFile?.close();
      await cgroup?.remove();
      removeInstanceDir(dir);
      throw new OpenEdgeError(
        "ERR_ENGINE",
        `failed to start instance "${instance}" of service "${spec.name}": ${(err as Error).message}`,
        { cause: err, details: { service: spec.name, instance, command: launch.argv[0] } },
      );
    }
    trackSpawned(proc.pid);
    forgetProcesses();
    if (cgroup !== null && !joinFirst) {
      void joinCgroupsLater(proc.pid, cgroup.procsFiles).then((failure) => {
        if (failure !== null)
          this.log.warn("cgroup_join_failed", { service: spec.name, instance, error: failure });
      });
    }
    const startTime = readStat(proc.pid)?.startTime ?? 0;
    const marker: Record<string, string> = {};
    for (const key of ["OPENEDGE_SERVICE_NAME", "OPENEDGE_SERVICE_INSTANCE_NAME"]) {
      const value = fullEnv[key];
      if (value !== undefined) marker[key] = value;
    }
    const running = new NativeInstance({
      service: spec.name,
      instance,
      proc,
      startTime,
      startedAt: clock.now(),
      identity: { leader: proc.pid, leaderStartTime: startTime, cgroup, marker },
      limits,
      instanceDir: dir,
      output: new OutputCapture(logFile, [proc.stdout, proc.stderr]),
      clock,
      log: this.log,
      reaper: this.reaper,
    });
    // Should the instance object fail to observe the exit, the pid must not stay protected forever.
    void proc.exited.finally(() => untrackSpawned(proc.pid));
    this.log.info("instance_spawned", {
      service: spec.name,
      instance,
      pid: proc.pid,
      cgroup: cgroup?.dirs[0],
    });
    return running;
  }

  reapLeftovers(records: readonly InstanceRecord[]): Promise<LeftoverReport> {
    return reapLeftovers(records, {
      workDir: this.deps.workDir,
      cgroupParent: this.parent,
      clock: this.deps.clock,
      log: this.log,
    });
  }

  /** Reaps adopted zombies now (the master may call it on SIGCHLD-less hosts after bulk stops). */
  reapOrphans(): number[] {
    return this.reaper.reapNow();
  }

  async close(): Promise<void> {
    this.reaper.stop();
    this.reaper.reapNow();
  }

  private isBuiltin(image: string): boolean {
    return this.deps.isBuiltin?.(image) ?? false;
  }

  private command(
    spec: ServiceSpec,
    instance: string,
    dir: string,
    env: Record<string, string>,
  ): BuiltinLaunch {
    if (this.isBuiltin(spec.image)) {
      const launch = this.deps.builtinCommand?.(spec, instance, { dir, env });
      if (launch === undefined || launch.argv.length === 0) {
        throw new OpenEdgeError(
          "ERR_CONFIG",
          `service "${spec.name}": no command for built-in image "${spec.image}"`,
          {
            details: { service: spec.name, image: spec.image },
          },
        );
      }
      return launch;
    }
    const pkg = resolvePackage(spec);
    return { argv: [join(dir, pkg.relDir, pkg.entry), ...spec.args] };
  }

  private cgroupFor(
    spec: ServiceSpec,
    instance: string,
  ): { cgroup: CgroupHandle | null; limits: LimitsReport } {
    if (this.cgroups.version === "none") {
      return {
        cgroup: null,
        limits: unenforcedReport(spec.resources, this.cgroups.reason ?? "cgroups unavailable"),
      };
    }
    const name = `${spec.name}.${instance}.${randomBytes(4).toString("hex")}`;
    try {
      const cgroup = this.cgroups.create(name, spec.resources);
      if (cgroup !== null) return { cgroup, limits: cgroup.limits };
      return {
        cgroup: null,
        limits: unenforcedReport(spec.resources, this.cgroups.reason ?? "cgroups unavailable"),
      };
    } catch (err) {
      const reason = `cannot create cgroup ${name}: ${(err as Error).message}`;
      return { cgroup: null, limits: unenforcedReport(spec.resources, reason) };
    }
  }
}
