// tcp:// and ssl:// listeners: each accepted socket's bytes are the MQTT stream, and its transport is
// the Bun socket's data itself (no wrapper per connection). TLS and client certificates: bun-listen.ts.

import type { ListenerConfig } from "../config-listen.ts";
import { type ListenerDeps, listenSockets, type RunningListener } from "./bun-listen.ts";
import { SocketTransport } from "./socket-transport.ts";

export function startTcpListener(config: ListenerConfig, deps: ListenerDeps): RunningListener {
  return listenSockets<SocketTransport>(config, deps, (socket, peer) => {
    // the Bun socket is the RawSocket itself: no closures per connection
    const transport = new SocketTransport(socket, {
      ...peer,
      listener: config.url,
      ...(deps.highWaterBytes ? { highWaterBytes: deps.highWaterBytes } : {}),
    });
    socket.data = transport;
    transport.sink = deps.core.accept(transport);
  });
}
