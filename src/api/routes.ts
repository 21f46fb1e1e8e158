// REST routes with OpenEdge 0.1.x's paths and shapes (`/v1/…` and the unprefixed legacy paths), as a
// plain `Request → Response` function: authenticated, validated, and testable without a socket.

import { OpenEdgeError } from "../lib/errors.ts";
import type { Logger } from "../log/index.ts";
import type { ApiBackend, UpdateType } from "./backend.ts";
import { errorResponse, jsonResponse } from "./http-errors.ts";
import type { TokenStore } from "./tokens.ts";

export interface RouteDeps {
  backend: ApiBackend;
  tokens: TokenStore;
  log: Logger;
}

type Params = Record<string, string>;
type Handler = (req: Request, params: Params, url: URL) => Promise<Response>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

const MAX_BODY = 1 << 20;

function route(method: string, path: string, handler: Handler): Route {
  const names: string[] = [];
  const source = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { method, pattern: new RegExp(`^(?:/v1)?${source}/?$`), names, handler };
}

function badRequest(message: string): OpenEdgeError {
  return new OpenEdgeError("ERR_BAD_REQUEST", message);
}

async function readJsonObject(req: Request, allowEmpty: boolean): Promise<Record<string, unknown>> {
  const text = await req.text();
  if (text.length > MAX_BODY) throw badRequest(`request body larger than ${MAX_BODY} bytes`);
  if (text.trim() === "") {
    if (allowEmpty) return {};
    throw badRequest("request body is empty: expected a JSON object");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest("request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function stringMap(body: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "string") env[k] = v;
    else if (typeof v === "number" || typeof v === "boolean") env[k] = String(v);
    else throw badRequest(`body.${k}: must be a string, number or boolean`);
  }
  return env;
}

function param(params: Params, name: string): string {
  return decodeURIComponent(params[name] ?? "");
}

export function createRoutes(deps: RouteDeps): (req: Request) => Promise<Response> {
  const { backend, tokens, log } = deps;
  const routes: Route[] = [
    route("GET", "/system/inspect", async () => jsonResponse(200, await backend.inspect())),
    route("PUT", "/system/update", async (req) => {
      const body = await readJsonObject(req, false);
      const type = body.type ?? "APP";
      if (type !== "APP" && type !== "MST") throw badRequest("body.type: must be one of APP, MST");
      if (typeof body.path !== "string" || body.path === "")
        throw badRequest("body.path: must be a non-empty string");
      if (body.trace !== undefined && typeof body.trace !== "string")
        throw badRequest("body.trace: must be a string");
      await backend.update({
        type: type as UpdateType,
        path: body.path,
        ...(typeof body.trace === "string" ? { trace: body.trace } : {}),
      });
      return jsonResponse(200, {});
    }),
    route("GET", "/ports/available", async () =>
      jsonResponse(200, { port: String(await backend.availablePort()) }),
    ),
    route("PUT", "/services/{service}/instances/{instance}/start", async (req, p) => {
      const env = stringMap(await readJsonObject(req, true));
      await backend.startInstance(param(p, "service"), param(p, "instance"), env);
      return jsonResponse(200, {});
    }),
    route("PUT", "/services/{service}/instances/{instance}/stop", async (_req, p) => {
      await backend.stopInstance(param(p, "service"), param(p, "instance"));
      return jsonResponse(200, {});
    }),
    route("PUT", "/services/{service}/instances/{instance}/report", async (req, p) => {
      await backend.report(param(p, "service"), param(p, "instance"), await readJsonObject(req, false));
      return jsonResponse(200, {});
    }),
    route("GET", "/services/{service}/logs", async (_req, p, url) => {
      const tailText = url.searchParams.get("tail") ?? "100";
      const tail = Number(tailText);
      if (!Number.isInteger(tail) || tail < 0) throw badRequest("tail: must be an integer >= 0");
      const follow = ["1", "true"].includes(url.searchParams.get("follow") ?? "");
      const instance = url.searchParams.get("instance") ?? undefined;
      const body = await backend.logs(param(p, "service"), {
        tail,
        follow,
        ...(instance ? { instance } : {}),
      });
      return new Response(body, { status: 200, headers: { "content-type": "text/plain; charset=utf-8" } });
    }),
  ];

  return async (req) => {
    const url = new URL(req.url);
    try {
      if (url.pathname === "/metrics") {
        if (req.method !== "GET")
          return jsonResponse(405, { error: "method not allowed", code: "ERR_BAD_REQUEST" });
        authenticate(req, tokens);
        return new Response(await backend.metrics(), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        });
      }
      const matches = routes
        .map((r) => ({ r, m: r.pattern.exec(url.pathname) }))
        .filter((x): x is { r: Route; m: RegExpExecArray } => x.m !== null);
      if (matches.length === 0)
        return jsonResponse(404, { error: `no route for ${url.pathname}`, code: "ERR_NOT_FOUND" });
      const match = matches.find((x) => x.r.method === req.method);
      if (!match) {
        const allow = matches.map((x) => x.r.method).join(", ");
        return new Response(
          JSON.stringify({
            error: `method ${req.method} not allowed; use ${allow}`,
            code: "ERR_BAD_REQUEST",
          }),
          {
            status: 405,
            headers: { "content-type": "application/json", allow },
          },
        );
      }
      const user = authenticate(req, tokens);
      const params: Params = {};
      match.r.names.forEach((name, i) => {
        params[name] = match.m[i + 1] ?? "";
      });
      log.debug("api_request", { method: req.method, path: url.pathname, user });
      return await match.r.handler(req, params, url);
    } catch (err) {
      if (!(err instanceof OpenEdgeError) || err.code === "ERR_INTERNAL") {
        log.error("api_request_failed", { method: req.method, path: url.pathname, error: err });
      }
      return errorResponse(err);
    }
  };
}

/** OpenEdge's headers, and the older x-iot-edge-* spelling. Returns the authenticated user. */
function authenticate(req: Request, tokens: TokenStore): string {
  const user = req.headers.get("x-openedge-username") ?? req.headers.get("x-iot-edge-username");
  const password = req.headers.get("x-openedge-password") ?? req.headers.get("x-iot-edge-password");
  if (!tokens.verify(user, password)) throw new OpenEdgeError("ERR_UNAUTHORIZED", "account unauthorized");
  return user ?? "";
}
