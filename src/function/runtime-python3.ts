// `openedge module openedge-function-python3`: validates the instance's service.yml, writes the
// embedded stdlib-only runtime script to a temp file and execs the host's python3 on it (where exec is
// unavailable it runs it as a child, forwarding SIGTERM/SIGINT and passing its exit code on).

import { createHash } from "node:crypto";
import {
  accessSync,
  existsSync,
  constants as fsConstants,
  mkdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { constants } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { ModuleRunContext } from "../cli/module-runners.ts";
import { errorMessage, OpenEdgeError } from "../lib/errors.ts";
import { execReplace } from "./exec-replace.ts";
import { ADDRESS_ENV, socketPathOf } from "./protocol.ts";
import { loadRuntimeConfig, type RuntimeConfig } from "./runtime-config.ts";
import { runtimeLogger } from "./runtime-log.ts";
import RUNTIME_SCRIPT from "./runtime-python3.py" with { type: "text" };

/** Env var naming the interpreter when service.yml has no `runtime.python3`. */
export const PYTHON3_ENV = "OPENEDGE_PYTHON3";
export { RUNTIME_SCRIPT as PYTHON3_RUNTIME_SCRIPT };

let runtimeModule: string | undefined;
/** The runtime's module name: its content hash, computed once (not at load: every CLI start pays that). */
function runtimeModuleName(): string {
  runtimeModule ??= `openedge_function_python3_${createHash("sha256").update(RUNTIME_SCRIPT).digest("hex").slice(0, 16)}`;
  return runtimeModule;
}

/** Where the runtime module (and its cached bytecode) lives: the work dir, which only the master's
 * user writes — never a shared temp dir, where someone else could plant a module or a .pyc first. */
export function runtimeDirOf(workDir: string): string {
  return join(workDir, "var/run/openedge/python3");
}

/**
 * Writes the runtime once per content as a module (instances share it; the name carries its hash, so
 * an upgraded executable never runs a stale copy) and returns its path.
 */
export function writeRuntimeScript(dir: string): string {
  const path = join(dir, `${runtimeModuleName()}.py`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, RUNTIME_SCRIPT, { mode: 0o644 });
  renameSync(tmp, path); // atomic: a concurrent instance sees the whole file or none
  return path;
}

/** How the master starts a module without the executable in between (see the engine's BuiltinLaunch). */
export interface DirectLaunch {
  argv: string[];
  argv0: string;
  lateCgroupJoin: boolean;
}

/** The argument the script reads: the validated config in JSON, paths absolute. */
export function scriptConfig(config: RuntimeConfig, socket: string): string {
  return JSON.stringify({
    socket,
    functions: config.functions.map((f) => ({
      name: f.name,
      module: f.module,
      exportName: f.exportName,
      codedir: f.codedir,
      timeoutMs: f.timeoutMs,
    })),
    busyPollMs: config.busyPollMs,
  });
}

export function pythonOf(config: RuntimeConfig, env: Readonly<Record<string, string | undefined>>): string {
  return config.python3 ?? env[PYTHON3_ENV] ?? "python3";
}

/** The interpreter's absolute path: a path as given (against the instance dir), a name through PATH. */
export function resolveInterpreter(
  name: string,
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const found = name.includes("/")
    ? isExecutable(resolve(cwd, name))
      ? resolve(cwd, name)
      : null
    : Bun.which(name, { PATH: env.PATH ?? "/usr/local/bin:/usr/bin:/bin", cwd });
  if (found === null) {
    throw new OpenEdgeError(
      "ERR_CONFIG",
      `python3 interpreter "${name}" not found (set runtime.python3 in service.yml or ${PYTHON3_ENV})`,
      { details: { python3: name } },
    );
  }
  return found;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function spawnPython(argv: string[], cwd: string, env: Record<string, string | undefined>) {
  try {
    return Bun.spawn(argv, { cwd, env, stdio: ["ignore", "inherit", "inherit"] });
  } catch (cause) {
    throw new OpenEdgeError(
      "ERR_CONFIG",
      `cannot run python3 interpreter "${argv[0]}": ${errorMessage(cause)} (set runtime.python3 in service.yml or ${PYTHON3_ENV})`,
      { cause },
    );
  }
}

/**
 * python3's argv for the runtime instance whose dir is `cwd`: validates its service.yml, finds the
 * interpreter and writes the script. Throws (ERR_CONFIG) on what the user must fix.
 */
export function python3Command(
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  workDir: string,
): { argv: string[]; warnings: string[] } {
  const { value: config, warnings } = loadRuntimeConfig(cwd, env);
  const address = env[ADDRESS_ENV];
  if (address === undefined || address === "") throw new Error(`${ADDRESS_ENV} is not set`);
  const socket = socketPathOf(address, cwd);
  const script = writeRuntimeScript(runtimeDirOf(workDir));
  // -u: unbuffered output, so log lines reach the instance log at once
  const python = resolveInterpreter(pythonOf(config, env), cwd, env);
  return { argv: [python, "-u", "-c", bootstrap(dirname(script)), scriptConfig(config, socket)], warnings };
}

/**
 * `python3 -c` code that imports the runtime as a module, because Python caches a module's bytecode
 * (beside it, in our own dir) but compiles a script anew at every start — a few ms of every cold
 * start. Nothing is written beside the user's code (what -B did), and neither the cwd nor our dir is
 * left on sys.path for the user's imports.
 */
function bootstrap(dir: string): string {
  return [
    "import sys",
    `sys.path[0] = ${JSON.stringify(dir)}`,
    "sys.dont_write_bytecode = False",
    `import ${runtimeModuleName()} as runtime`,
    "del sys.path[0]",
    "sys.dont_write_bytecode = True",
    "sys.exit(runtime.main())",
  ].join("; ");
}

/**
 * How the master starts a Python instance without this executable in between (it would add its own
 * start-up, tens of ms, to every cold start): python3 directly, argv[0] its own path (python finds
 * its prefix and venv from it). Null when there is something to report — the runner then starts
 * instead and writes it to the instance's log.
 */
export function directPython3Launch(
  cwd: string,
  env: Readonly<Record<string, string>>,
  workDir: string,
): DirectLaunch | null {
  try {
    const { argv, warnings } = python3Command(cwd, env, workDir);
    const python = argv[0];
    // the runtime forks nothing before it listens (a handler module that does at import is the rare
    // exception: its children then stay in the process group, not in the accounting cgroups)
    return warnings.length === 0 && python !== undefined
      ? { argv, argv0: python, lateCgroupJoin: true }
      : null;
  } catch {
    return null;
  }
}

export async function runPython3Runtime(run: ModuleRunContext): Promise<number> {
  const { env, cwd } = run.ctx;
  const log = runtimeLogger(env.OPENEDGE_LOG_LEVEL, {
    module: "function-python3",
    instance: env.OPENEDGE_SERVICE_INSTANCE_NAME ?? "",
  });
  let child: ReturnType<typeof spawnPython>;
  try {
    const { argv, warnings } = python3Command(cwd, env, run.workDir);
    for (const warning of warnings) log.warn("function_config_warning", { warning });
    const python = argv[0] ?? "python3";
    // become the interpreter (returns only if that is impossible here), else run it as a child
    const why = execReplace(python, argv, env);
    log.debug("function_exec_unavailable", { reason: why });
    child = spawnPython(argv, cwd, { ...env });
  } catch (error) {
    log.error("function_runtime_start_failed", { runtime: "python3", error: errorMessage(error) });
    return 1;
  }
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onTerm = forward("SIGTERM");
  const onInt = forward("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  const code = await child.exited;
  process.off("SIGTERM", onTerm);
  process.off("SIGINT", onInt);
  if (child.signalCode !== null) {
    log.warn("function_runtime_killed", { runtime: "python3", signal: child.signalCode });
    return 128 + (signalNumber(child.signalCode) ?? 0);
  }
  return code;
}

function signalNumber(signal: NodeJS.Signals | number): number | undefined {
  if (typeof signal === "number") return signal;
  const n = constants.signals[signal];
  return typeof n === "number" ? n : undefined;
}
