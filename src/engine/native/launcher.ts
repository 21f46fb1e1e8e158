// How a native instance is exec'd: its environment (host < service < system), and the command line.
// With cgroup limits the child must join before user code runs, so a tiny shell writes its own pid into
// each cgroup.procs and then execs the entry with argv[0] set to the instance name (`exec -a`).

import { writeFile } from "node:fs/promises";

export function composeEnv(
  hostEnv: Readonly<Record<string, string>>,
  serviceEnv: Readonly<Record<string, string>>,
  systemEnv: Readonly<Record<string, string>>,
): Record<string, string> {
  return { ...hostEnv, ...serviceEnv, ...systemEnv };
}

export interface ExecShell {
  /** The shell's command prefix (`["/bin/bash"]`, `["/bin/busybox", "sh"]`). */
  argv: string[];
  /** Whether it understands `exec -a NAME` (dash does not). */
  execA: boolean;
}

const SHELL_CANDIDATES: string[][] = [["/bin/bash"], ["/usr/bin/bash"], ["/bin/busybox", "sh"], ["/bin/sh"]];

/** Finds a shell that can `exec -a`; falls back to /bin/sh (argv[0] is then the entry path). */
export function findExecShell(candidates: string[][] = SHELL_CANDIDATES): ExecShell {
  for (const argv of candidates) {
    try {
      const r = Bun.spawnSync({
        cmd: [...argv, "-c", "exec -a probe true"],
        stdout: "ignore",
        stderr: "ignore",
      });
      if (r.exitCode === 0) return { argv, execA: true };
    } catch {
      // not installed
    }
  }
  return { argv: ["/bin/sh"], execA: false };
}

// $0 is the instance name; the arguments are the cgroup.procs files, `--`, then the command.
// Failing to join a cgroup ends the start (exit 125) rather than running the service unconfined
// while inspect says its limits are enforced.
const JOIN_SCRIPT = `for f do
  shift
  [ "$f" = -- ] && break
  { echo $$ > "$f"; } 2>/dev/null || { echo "openedge: cannot join cgroup $f" >&2; exit 125; }
done
`;

export interface LaunchPlan {
  cmd: string[];
  /** argv[0] of the spawned process (Bun.spawn's argv0). */
  argv0: string;
}

/**
 * The command for Bun.spawn. `command[0]` is the executable; the process sees argv[0] = `name`.
 * Without cgroup files the executable is spawned directly.
 */
export function launchPlan(
  command: readonly string[],
  name: string,
  procsFiles: readonly string[],
  shell: ExecShell,
): LaunchPlan {
  if (procsFiles.length === 0) return { cmd: [...command], argv0: name };
  const exec = shell.execA ? `exec -a "$0" "$@"` : `exec "$@"`;
  return {
    cmd: [...shell.argv, "-c", JOIN_SCRIPT + exec, name, ...procsFiles, "--", ...command],
    // The shell keeps its own argv[0] (busybox picks its applet by it); the exec renames.
    argv0: shell.argv[0] ?? "/bin/sh",
  };
}

/**
 * Moves a started process into its (accounting-only) cgroups off the master's thread. Each move waits
 * for an RCU grace period in the kernel (cgroup v1 without favordynmods: ~10 ms per start here), which
 * a join-before-exec would add to every instance start. Null, or why a move failed (a process that
 * already exited is not a failure).
 */
export async function joinCgroupsLater(pid: number, procsFiles: readonly string[]): Promise<string | null> {
  for (const file of procsFiles) {
    try {
      await writeFile(file, `${pid}\n`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ESRCH") return null;
      return `${file}: ${(error as Error).message}`;
    }
  }
  return null;
}
