// A client of the master's API, used by the CLI (as `openedge-admin`) and by tests; it speaks to the
// unix socket or TCP address the master listens on.

import type { Endpoint } from "../config/index.ts";
import { OpenEdgeError } from "../lib/errors.ts";

export interface ApiCredentials {
  username: string;
  password: string;
}

export class ApiClient {
  constructor(
    private readonly address: Endpoint,
    private readonly credentials: ApiCredentials,
  ) {}

  async request(method: string, path: string, body?: unknown): Promise<Response> {
    const base =
      this.address.kind === "unix" ? "http://localhost" : `http://${this.address.host}:${this.address.port}`;
    const init: RequestInit & { unix?: string } = {
      method,
      headers: {
        "x-openedge-username": this.credentials.username,
        "x-openedge-password": this.credentials.password,
        "content-type": "application/json",
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(this.address.kind === "unix" ? { unix: this.address.path } : {}),
    };
    try {
      return await fetch(base + path, init);
    } catch (err) {
      throw new OpenEdgeError("ERR_IO", `cannot reach the master's API: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** A JSON call; a non-2xx answer becomes an error carrying the server's message. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body);
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (!res.ok) {
      const message =
        parsed !== null && typeof parsed === "object" && "error" in parsed
          ? String(parsed.error)
          : text || res.statusText;
      throw new OpenEdgeError(
        res.status === 401 ? "ERR_UNAUTHORIZED" : "ERR_BAD_REQUEST",
        `api ${method} ${path}: ${message}`,
        {
          details: { status: res.status },
        },
      );
    }
    return parsed as T;
  }
}
