import { beforeEach, describe, expect, test } from "bun:test";
import {
  type ApiBackend,
  createRoutes,
  type LogsRequest,
  TokenStore,
  type UpdateRequest,
} from "../../../src/api/index.ts";
import { OpenEdgeError } from "../../../src/lib/errors.ts";
import { silentLogger } from "../../../src/log/index.ts";

class FakeBackend implements ApiBackend {
  calls: Array<[string, ...unknown[]]> = [];
  async inspect() {
    return { software: { os: "linux" }, services: [] };
  }
  async update(r: UpdateRequest) {
    this.calls.push(["update", r]);
  }
  async availablePort() {
    return 43567;
  }
  async startInstance(s: string, i: string, env: Record<string, string>) {
    if (s === "nope") throw new OpenEdgeError("ERR_NOT_FOUND", `service "${s}" not found`);
    this.calls.push(["start", s, i, env]);
  }
  async stopInstance(s: string, i: string) {
    this.calls.push(["stop", s, i]);
  }
  async report(s: string, i: string, stats: Record<string, unknown>) {
    this.calls.push(["report", s, i, stats]);
  }
  async logs(s: string, r: LogsRequest) {
    this.calls.push(["logs", s, r]);
    return "line\n";
  }
  async metrics() {
    return "openedge_up 1\n";
  }
}

let backend: FakeBackend;
let tokens: TokenStore;
let handle: (req: Request) => Promise<Response>;
let token: string;

beforeEach(() => {
  backend = new FakeBackend();
  tokens = new TokenStore();
  token = tokens.issue("function-manager");
  handle = createRoutes({ backend, tokens, log: silentLogger });
});

function req(method: string, path: string, body?: string, headers?: Record<string, string>): Request {
  return new Request(`http://localhost${path}`, {
    method,
    headers: headers ?? { "x-openedge-username": "function-manager", "x-openedge-password": token },
    ...(body === undefined ? {} : { body }),
  });
}

describe("auth", () => {
  test("no credentials, a wrong token or an unknown user is 401 account unauthorized", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { "x-openedge-username": "function-manager", "x-openedge-password": "wrong" },
      { "x-openedge-username": "ghost", "x-openedge-password": token },
    ];
    for (const headers of attempts) {
      const res = await handle(req("GET", "/v1/system/inspect", undefined, headers));
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "account unauthorized", code: "ERR_UNAUTHORIZED" });
    }
  });

  test("the older x-iot-edge-* header spelling is accepted", async () => {
    const res = await handle(
      req("GET", "/v1/system/inspect", undefined, {
        "x-iot-edge-username": "function-manager",
        "x-iot-edge-password": token,
      }),
    );
    expect(res.status).toBe(200);
  });

  test("a revoked token stops working, a reissued one replaces the old", async () => {
    const second = tokens.issue("function-manager");
    expect(tokens.verify("function-manager", token)).toBe(false);
    expect(tokens.verify("function-manager", second)).toBe(true);
    tokens.revoke("function-manager");
    expect(tokens.verify("function-manager", second)).toBe(false);
  });
});

describe("endpoints (with and without the /v1 prefix)", () => {
  test.each(["/v1/system/inspect", "/system/inspect"])("GET %s returns inspect JSON", async (path) => {
    const res = await handle(req("GET", path));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ software: { os: "linux" }, services: [] });
  });

  test("ports/available answers the port as a string, as OpenEdge did", async () => {
    expect(await (await handle(req("GET", "/v1/ports/available"))).json()).toEqual({ port: "43567" });
  });

  test("start passes the body as the instance's env, numbers stringified", async () => {
    const res = await handle(
      req(
        "PUT",
        "/v1/services/sayhi/instances/sayhi.1/start",
        JSON.stringify({ OPENEDGE_SERVICE_INSTANCE_ADDRESS: "unix://x", N: 3 }),
      ),
    );
    expect(res.status).toBe(200);
    expect(backend.calls).toEqual([
      ["start", "sayhi", "sayhi.1", { OPENEDGE_SERVICE_INSTANCE_ADDRESS: "unix://x", N: "3" }],
    ]);
  });

  test("stop, report and update reach the backend", async () => {
    await handle(req("PUT", "/services/a/instances/a.1/stop"));
    await handle(req("PUT", "/v1/services/a/instances/a/report", JSON.stringify({ stats: { msgs: 5 } })));
    await handle(
      req("PUT", "/v1/system/update", JSON.stringify({ type: "APP", path: "var/db/new.yml", trace: "t1" })),
    );
    expect(backend.calls).toEqual([
      ["stop", "a", "a.1"],
      ["report", "a", "a", { stats: { msgs: 5 } }],
      ["update", { type: "APP", path: "var/db/new.yml", trace: "t1" }],
    ]);
  });

  test("logs takes tail and follow from the query", async () => {
    const res = await handle(req("GET", "/v1/services/hub/logs?tail=5&follow=1"));
    expect(await res.text()).toBe("line\n");
    expect(backend.calls).toEqual([["logs", "hub", { tail: 5, follow: true }]]);
  });

  test("metrics is Prometheus text and needs auth too", async () => {
    const res = await handle(req("GET", "/metrics"));
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    expect(await res.text()).toBe("openedge_up 1\n");
    expect((await handle(req("GET", "/metrics", undefined, {}))).status).toBe(401);
  });
});

describe("bad requests get a clear 4xx JSON error, never a crash", () => {
  test.each([
    ["{not json", 400, "request body is not valid JSON"],
    ["[1,2]", 400, "request body must be a JSON object"],
    ["", 400, "request body is empty: expected a JSON object"],
    [JSON.stringify({ type: "OS", path: "x" }), 400, "body.type: must be one of APP, MST"],
    [JSON.stringify({ type: "APP" }), 400, "body.path: must be a non-empty string"],
  ])("update body %p → %p", async (body, status, message) => {
    const res = await handle(req("PUT", "/v1/system/update", body));
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: string; code: string };
    expect(json.error).toStartWith(message);
    expect(json.code).toBe("ERR_BAD_REQUEST");
  });

  test("a nested value in a start body names the key", async () => {
    const res = await handle(req("PUT", "/v1/services/a/instances/b/start", JSON.stringify({ X: { y: 1 } })));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe(
      "body.X: must be a string, number or boolean",
    );
  });

  test("an unknown service is a 404 from the backend's typed error", async () => {
    const res = await handle(req("PUT", "/v1/services/nope/instances/x/start", "{}"));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'service "nope" not found', code: "ERR_NOT_FOUND" });
  });

  test("an unknown path is 404 and a wrong method is 405 with Allow", async () => {
    expect((await handle(req("GET", "/v1/nothing"))).status).toBe(404);
    const res = await handle(req("POST", "/v1/system/inspect"));
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });

  test("a bad tail is rejected", async () => {
    expect((await handle(req("GET", "/v1/services/hub/logs?tail=-1"))).status).toBe(400);
  });
});
