// ws:// and wss:// listeners on Bun.serve: the upgrade is served on the URL's path only, with the MQTT
// subprotocols (`mqtt`, `mqttv3.1`); each binary frame carries stream bytes. Bun.serve does not show
// the client certificate, so certificate principals log in over ssl://, not wss://.

import type { Server, ServerWebSocket } from "bun";
import type { ListenerConfig } from "../config-listen.ts";
import { SocketTransport } from "./socket-transport.ts";
import type { ListenerDeps, RunningListener } from "./tcp-listener.ts";

const SUBPROTOCOLS = ["mqtt", "mqttv3.1"];

interface WsData {
  remoteAddress: string;
  transport?: SocketTransport;
}

export function startWsListener(config: ListenerConfig, deps: ListenerDeps): RunningListener {
  const { core, log, tls } = deps;
  const highWater = deps.highWaterBytes ?? 4 * 1024 * 1024;
  const secure = config.kind === "wss";
  const server: Server<WsData> = Bun.serve<WsData>({
    hostname: config.host,
    port: config.port,
    ...(secure && tls ? { tls: tls.options } : {}),
    fetch(req, srv) {
      if (new URL(req.url).pathname !== config.path) return new Response("not found\n", { status: 404 });
      const offered = (req.headers.get("sec-websocket-protocol") ?? "")
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p !== "");
      const chosen = offered.find((p) => SUBPROTOCOLS.includes(p));
      if (offered.length > 0 && chosen === undefined)
        return new Response("unsupported websocket subprotocol\n", { status: 400 });
      const ip = srv.requestIP(req);
      const remoteAddress = ip ? `${ip.address}:${ip.port}` : "unknown";
      const headers = chosen ? { "Sec-WebSocket-Protocol": chosen } : undefined;
      if (srv.upgrade(req, { data: { remoteAddress }, ...(headers ? { headers } : {}) })) return undefined;
      return new Response("websocket upgrade expected\n", { status: 426 });
    },
    websocket: {
      // the transport bounds what waits; uWS's own limit only stops a runaway (send then returns 0)
      backpressureLimit: highWater,
      maxPayloadLength: 512 * 1024 * 1024,
      // MQTT's keepalive decides idleness, not the WebSocket layer
      idleTimeout: 0,
      open(ws) {
        ws.binaryType = "uint8array";
        const transport = new SocketTransport(wsSocket(ws), {
          remoteAddress: ws.data.remoteAddress,
          listener: config.url,
          highWaterBytes: highWater,
        });
        ws.data.transport = transport;
        transport.sink = core.accept(transport);
      },
      message(ws, message) {
        if (typeof message === "string") {
          // [MQTT-6.0.0-1] MQTT travels in binary frames only
          log.debug("hub_ws_text_frame", { listener: config.url, remote: ws.data.remoteAddress });
          ws.data.transport?.onClose(new Error("text frame on an MQTT websocket"));
          ws.close(1003, "binary frames only");
          return;
        }
        ws.data.transport?.onData(message);
      },
      drain(ws) {
        ws.data.transport?.onDrain();
      },
      close(ws, code, reason) {
        const clean = code === 1000 || code === 1005;
        ws.data.transport?.onClose(clean ? undefined : new Error(`websocket closed (${code}) ${reason}`));
      },
    },
  });
  return {
    url: config.url,
    kind: config.kind,
    port: server.port ?? config.port,
    stop: (force = false) => void server.stop(force),
  };
}

/** `send` returns -1 (queued inside uWS), 0 (dropped past its limit) or the bytes sent. */
function wsSocket(ws: ServerWebSocket<WsData>) {
  return {
    write: (bytes: Uint8Array) => (ws.sendBinary(bytes) === 0 ? 0 : bytes.length),
    end: () => ws.close(1000),
    terminate: () => ws.terminate(),
    backlog: () => ws.getBufferedAmount(),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
  };
}
