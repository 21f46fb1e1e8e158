// Listener URLs of service.yml's `listen`: OpenEdge's schemes and their aliases, normalised to the
// four transports the hub serves (tcp, ssl, ws, wss).

export type ListenerKind = "tcp" | "ssl" | "ws" | "wss";

export interface ListenerConfig {
  /** As written (`tcp://0.0.0.0:1883`); the name the core and logs use for this listener. */
  url: string;
  kind: ListenerKind;
  /** `0.0.0.0` when the URL leaves it empty (`tcp://:1883`). */
  host: string;
  /** 0 asks the OS for a free port (logged with `hub_listening`). */
  port: number;
  /** WebSocket upgrade path (ws/wss only); `/` when absent. */
  path: string;
}

const SCHEMES: Record<string, ListenerKind> = {
  tcp: "tcp",
  mqtt: "tcp",
  ssl: "ssl",
  tls: "ssl",
  mqtts: "ssl",
  ws: "ws",
  wss: "wss",
};

export const LISTEN_SCHEMES = Object.keys(SCHEMES);

const URL_RE = /^([a-zA-Z]+):\/\/(\[[0-9a-fA-F:.]*\]|[^:/[\]]*)(?::(\d{1,5}))?(\/[^\s?#]*)?$/;

/** The listener a URL names, or the rule it breaks. */
export function parseListenUrl(url: string): ListenerConfig | { problem: string } {
  const m = URL_RE.exec(url.trim());
  if (!m) return { problem: "must be a URL such as tcp://0.0.0.0:1883 or ws://0.0.0.0:8080/mqtt" };
  const kind = SCHEMES[(m[1] ?? "").toLowerCase()];
  if (kind === undefined) return { problem: `scheme must be one of ${LISTEN_SCHEMES.join(", ")}` };
  if (m[3] === undefined) return { problem: "must name a port (0 picks a free one)" };
  const port = Number(m[3]);
  if (port > 65_535) return { problem: "port must be between 0 and 65535" };
  const rawHost = m[2] ?? "";
  const host = rawHost === "" ? "0.0.0.0" : rawHost.replace(/^\[(.*)\]$/, "$1");
  const path = m[4] ?? "/";
  if ((kind === "tcp" || kind === "ssl") && path !== "/")
    return { problem: `${kind} listeners take no path` };
  return { url: url.trim(), kind, host, port, path };
}
