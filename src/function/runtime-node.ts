// `openedge module openedge-function-node`: the JavaScript/TypeScript runtime instance. Reads the
// instance's service.yml, loads every handler up front (a broken one exits 1), serves calls until SIGTERM.

import type { ModuleRunContext } from "../cli/module-runners.ts";
import { type Clock, systemClock } from "../lib/clock.ts";
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../log/index.ts";
import { invokeFunction, type LoadedFunction, loadFunction } from "./node-handlers.ts";
import { ADDRESS_ENV, type CallOutcome, ErrorType, type InvokeCall, socketPathOf } from "./protocol.ts";
import { loadRuntimeConfig } from "./runtime-config.ts";
import type { Invoker } from "./runtime-core.ts";
import { runtimeLogger } from "./runtime-log.ts";
import { RuntimeServer } from "./runtime-server.ts";

/** Calls each loaded function by the call's functionName, within its timeout (or the call's, if smaller). */
export class NodeInvoker implements Invoker {
  constructor(
    private readonly functions: ReadonlyMap<string, LoadedFunction>,
    private readonly clock: Clock = systemClock,
  ) {}

  invoke(call: InvokeCall): CallOutcome | Promise<CallOutcome> {
    const loaded = this.functions.get(call.functionName);
    if (loaded === undefined) {
      return {
        ok: false,
        errorType: ErrorType.unknownFunction,
        errorMessage: `no function "${call.functionName}" in this runtime (it has: ${[...this.functions.keys()].join(", ")})`,
      };
    }
    const timeout = Math.min(loaded.spec.timeoutMs, call.timeout ?? Number.POSITIVE_INFINITY);
    return invokeFunction(loaded, call, timeout, this.clock);
  }
}

/** Loads every function of the config; throws (ERR_CONFIG) naming the first that fails. */
export async function loadFunctions(
  specs: readonly Parameters<typeof loadFunction>[0][],
): Promise<Map<string, LoadedFunction>> {
  const loaded = new Map<string, LoadedFunction>();
  for (const spec of specs) loaded.set(spec.name, await loadFunction(spec));
  return loaded;
}

/** `on`, not `once`: the engine signals the group and the leader, and a second signal must not cut the
 * clean exit short. */
function waitForTermination(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => () => resolve(signal);
    process.on("SIGTERM", on("SIGTERM"));
    process.on("SIGINT", on("SIGINT"));
  });
}

export async function runNodeRuntime(run: ModuleRunContext): Promise<number> {
  const { env, cwd } = run.ctx;
  const log: Logger = runtimeLogger(env.OPENEDGE_LOG_LEVEL, {
    module: "function-node",
    instance: env.OPENEDGE_SERVICE_INSTANCE_NAME ?? "",
  });
  let server: RuntimeServer;
  try {
    const { value: config, warnings } = loadRuntimeConfig(cwd, env);
    for (const warning of warnings) log.warn("function_config_warning", { warning });
    const address = env[ADDRESS_ENV];
    if (address === undefined || address === "") throw new Error(`${ADDRESS_ENV} is not set`);
    const path = socketPathOf(address, cwd);
    const functions = await loadFunctions(config.functions);
    server = new RuntimeServer({
      path,
      invoker: new NodeInvoker(functions),
      log,
      busyPollMs: config.busyPollMs,
    });
    await server.listen();
    log.info("function_runtime_ready", {
      runtime: "node",
      socket: path,
      functions: config.functions.map((f) => f.name),
    });
  } catch (error) {
    log.error("function_runtime_start_failed", { runtime: "node", error: errorMessage(error) });
    return 1;
  }
  const signal = await waitForTermination();
  log.info("function_runtime_stopping", { signal });
  await server.close();
  return 0;
}
