// Public surface of the REST API.
export type { ApiBackend, LogsRequest, UpdateRequest, UpdateType } from "./backend.ts";
export { ApiClient, type ApiCredentials } from "./client.ts";
export { errorResponse, jsonResponse } from "./http-errors.ts";
export { createRoutes, type RouteDeps } from "./routes.ts";
export { ApiServer } from "./server.ts";
export { ADMIN_USER, TokenStore } from "./tokens.ts";
