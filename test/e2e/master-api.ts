// A test client of a running master's API over its unix socket (as the operator by default, or with
// any headers a test wants), typed views of the inspect document, and polling with a deadline.

import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface ExitView {
  code: number | null;
  signal: string | null;
  oom_killed?: boolean;
  error?: string;
}

export interface LimitsView {
  enforced: boolean;
  via: string;
  reason?: string;
  applied: Record<string, unknown>;
  skipped: { limit: string; reason: string }[];
}

export interface InstanceView {
  name: string;
  status: string;
  restarts: number;
  start_time: string | null;
  pid?: number;
  exit?: ExitView;
  limits?: LimitsView;
  processes?: number;
  [reported: string]: unknown;
}

export interface ServiceView {
  name: string;
  image: string;
  replica: number;
  status?: string;
  error?: string;
  instances: InstanceView[];
}

export interface InspectView {
  software: Record<string, unknown>;
  services: ServiceView[];
  error: string;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, undefined when it is not JSON. */
  json: unknown;
}

export interface CallOptions {
  /** A string is sent as is (malformed bodies); anything else as JSON. */
  body?: unknown;
  /** Replaces the operator's auth headers entirely. */
  headers?: Record<string, string>;
}

export const ADMIN = "openedge-admin";

export function authHeaders(user: string, password: string, legacy = false): Record<string, string> {
  const prefix = legacy ? "x-iot-edge" : "x-openedge";
  return { [`${prefix}-username`]: user, [`${prefix}-password`]: password };
}

export class MasterApi {
  readonly socket: string;

  constructor(readonly workDir: string) {
    this.socket = join(workDir, "var/run/openedge.sock");
  }

  adminToken(): string {
    return readFileSync(join(this.workDir, "var/run/openedge/admin.token"), "utf8").trim();
  }

  async call(method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
    const headers = opts.headers ?? authHeaders(ADMIN, this.adminToken());
    const init: RequestInit & { unix: string } = { method, headers, unix: this.socket };
    if (opts.body !== undefined) {
      init.body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    }
    const res = await fetch(`http://localhost${path}`, init);
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  /**
   * GETs a streaming endpoint and reads the body until `done` holds for the text so far (or the
   * deadline passes, which throws); then hangs up.
   */
  async readStream(path: string, done: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let text = "";
    try {
      const res = await fetch(`http://localhost${path}`, {
        headers: authHeaders(ADMIN, this.adminToken()),
        unix: this.socket,
        signal: abort.signal,
      } as RequestInit & { unix: string });
      if (res.status !== 200 || res.body === null) throw new Error(`${path} answered ${res.status}`);
      const decoder = new TextDecoder();
      for await (const chunk of res.body) {
        text += decoder.decode(chunk, { stream: true });
        if (done(text)) return text;
      }
      throw new Error(`${path}: the stream ended; read: ${JSON.stringify(text)}`);
    } catch (err) {
      if (abort.signal.aborted)
        throw new Error(`${path}: timed out after ${timeoutMs} ms; read: ${JSON.stringify(text)}`);
      throw err;
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  }

  async inspect(): Promise<InspectView> {
    const answer = await this.call("GET", "/v1/system/inspect");
    if (answer.status !== 200) throw new Error(`inspect answered ${answer.status}: ${answer.text}`);
    return answer.json as InspectView;
  }

  /** The service's entry in inspect; throws when inspect does not list it. */
  async service(name: string): Promise<ServiceView> {
    const found = (await this.inspect()).services.find((s) => s.name === name);
    if (found === undefined) throw new Error(`inspect lists no service "${name}"`);
    return found;
  }

  /** Polls inspect until `done` holds for the service's instances; returns them. */
  instancesUntil(
    service: string,
    what: string,
    done: (instances: InstanceView[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<InstanceView[]> {
    return until(what, async () => (await this.service(service)).instances, done, { timeoutMs });
  }
}

/**
 * Calls `probe` every `intervalMs` until `done` holds for its value, and returns that value; after
 * `timeoutMs` it throws naming `what` and the last value seen (or the probe's last error).
 */
export async function until<T>(
  what: string,
  probe: () => T | Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 15_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: string = "(nothing yet)";
  for (;;) {
    try {
      const value = await probe();
      if (done(value)) return value;
      last = JSON.stringify(value);
    } catch (err) {
      last = `error: ${(err as Error).message}`;
    }
    if (performance.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last?.slice(0, 4000)}`);
    }
    await Bun.sleep(intervalMs);
  }
}

export function running(instances: readonly InstanceView[], count: number): boolean {
  return instances.length === count && instances.every((i) => i.status === "running" && i.pid !== undefined);
}
