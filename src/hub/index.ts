// Public surface of the hub: config, auth, routes, listeners and the openedge-hub built-in (edges);
// the protocol core's exports follow.

export { ANONYMOUS, type AuthOptions, PrincipalAuthenticator } from "./auth.ts";
export { filterMatches, filterProblem, filtersCover, topicProblem } from "./auth-filters.ts";
export {
  type CertificateConfig,
  DEFAULT_STORAGE_DIR,
  type HubConfig,
  type HubConfigOptions,
  loadHubConfig,
  parseHubConfig,
  readHubConfig,
} from "./config.ts";
export type { Compat } from "./config-limits.ts";
export { type ListenerConfig, type ListenerKind, parseListenUrl } from "./config-listen.ts";
export type { PermissionAction, PermissionConfig, PrincipalConfig } from "./config-principals.ts";
export { isPasswordHash } from "./config-principals.ts";
export * from "./contracts.ts";
export { Hub, type HubDeps, type HubRoute } from "./hub.ts";
export {
  type DeferredAck,
  InprocClient,
  type InprocClientOptions,
  type InprocHandler,
  type InprocMessage,
  type PublishOptions,
} from "./inproc-client.ts";
export {
  type RunningListener,
  SocketTransport,
  type StartListenersOptions,
  startListeners,
} from "./listeners/index.ts";
export {
  type BuildHubOptions,
  createHubFactory,
  type HubBuilder,
  type HubInstance,
  type HubModuleDeps,
  type RunningHub,
  resolveStorageDir,
  startHubModule,
} from "./module.ts";
export { buildCoreHub } from "./module-core.ts";
export type { HubPersistence, OutgoingRow, PersistedSession, PersistedState } from "./persistence.ts";
export { MemoryPersistence } from "./persistence-memory.ts";
export { SqlitePersistence, type SqlitePersistenceOptions } from "./persistence-sqlite.ts";
export { type Route, type RouteEnd, type RouteIssue, routeIssues } from "./routes.ts";
export type { HubStats, HubStatsSnapshot } from "./stats.ts";
export { TopicTree } from "./topic-tree.ts";
export { topicFilterError, topicNameError } from "./topic-validation.ts";
