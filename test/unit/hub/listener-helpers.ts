// What the listener tests share: listen URLs, polling, and a core whose one client is fed as fast as
// its transport takes bytes (to drive backpressure).

import { type ListenerConfig, parseListenUrl } from "../../../src/hub/config-listen.ts";
import type { ClientTransport, HubCore } from "../../../src/hub/contracts.ts";
import { type RunningListener, startListeners } from "../../../src/hub/listeners/index.ts";
import type { Logger } from "../../../src/log/index.ts";

export function url(text: string): ListenerConfig {
  const parsed = parseListenUrl(text);
  if ("problem" in parsed) throw new Error(parsed.problem);
  return parsed;
}

export async function until<T>(fn: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

export interface Flood {
  listener: RunningListener | undefined;
  /** `full` each time write() said false, `drained` each time the core heard drained(). */
  events: string[];
  transport(): ClientTransport | undefined;
}

/**
 * A listener on `listen` (1 MiB high-water mark) whose core writes `next()` chunks to its one client
 * until write() says false, and again on each drained(); it starts on accept or on the client's first
 * data.
 */
export function startFlood(
  listen: string,
  log: Logger,
  next: () => Uint8Array | undefined,
  startOn: "accept" | "data",
): Flood {
  const events: string[] = [];
  let transport: ClientTransport | undefined;
  const pump = () => {
    for (let chunk = transport && next(); chunk !== undefined; chunk = next()) {
      if (!transport?.write(chunk)) {
        events.push("full");
        return;
      }
    }
  };
  const core: HubCore = {
    accept(t) {
      transport = t;
      if (startOn === "accept") queueMicrotask(pump);
      return {
        data: () => {
          if (startOn === "data") pump();
        },
        drained: () => {
          events.push("drained");
          pump();
        },
        closed: () => {},
      };
    },
  };
  const [listener] = startListeners([url(listen)], { core, log, certificate: {}, highWaterBytes: 1 << 20 });
  return { listener, events, transport: () => transport };
}
