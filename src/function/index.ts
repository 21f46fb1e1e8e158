// Public surface of functions: the invocation protocol, the runtime client, the instance pool and
// the two runtimes (JavaScript/TypeScript in-process, Python 3 via the embedded script).

export {
  createFunctionManagerFactory,
  type FunctionManagerDeps,
  loadManagerConfig,
  type RunningFunctionManager,
  startFunctionManager,
} from "./manager.ts";
export {
  type ManagedFunction,
  type ManagerConfig,
  parseManagerConfig,
  type RuleConfig,
} from "./manager-config.ts";
export { errorObject, INVOCATION_ERROR, MESSAGE_TOO_LARGE, outputOf } from "./manager-output.ts";
export { type RuleClient, type RuleDeps, RuleRunner, type RuleStats } from "./manager-rule.ts";
export {
  type FunctionContext,
  invokeFunction,
  type LoadedFunction,
  loadFunction,
  type NodeHandler,
} from "./node-handlers.ts";
export { eventOf, payloadOf } from "./payload-mapping.ts";
export {
  FunctionPool,
  type InstanceStarter,
  type PoolDeps,
  type PoolOptions,
  type PoolStats,
  type RuntimeConnector,
  socketConnector,
} from "./pool.ts";
export {
  ADDRESS_ENV,
  buildCallMessage,
  type CallOutcome,
  ErrorType,
  errorAnswer,
  FUNCTION_RESOURCE,
  type InvokeCall,
  type InvokeError,
  type InvokeResult,
  isInvokeError,
  MAX_SOCKET_PATH,
  OPERATION_ERROR,
  OPERATION_INVOKE,
  OPERATION_RESPONSE,
  parseAnswer,
  parseCall,
  resultAnswer,
  socketPathOf,
} from "./protocol.ts";
export { type ConnectOptions, RuntimeClient, type RuntimeLink } from "./runtime-client.ts";
export {
  DEFAULT_FUNCTION_TIMEOUT_MS,
  type FunctionSpec,
  loadRuntimeConfig,
  parseRuntimeConfig,
  RUNTIME_CONFIG_PATH,
  type RuntimeConfig,
} from "./runtime-config.ts";
export { type Invoker, RuntimeCore } from "./runtime-core.ts";
export { loadFunctions, NodeInvoker, runNodeRuntime } from "./runtime-node.ts";
export {
  PYTHON3_ENV,
  pythonOf,
  runPython3Runtime,
  scriptConfig,
  writeRuntimeScript,
} from "./runtime-python3.ts";
export { RuntimeServer, type RuntimeServerDeps } from "./runtime-server.ts";
