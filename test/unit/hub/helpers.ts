// Test doubles for the hub core: a transport that records bytes, a client that speaks MQTT through
// it with mqtt-packet, and an authenticator with a few fixed principals.

import { generate, type Packet, parser } from "mqtt-packet";
import type {
  Authenticator,
  AuthResult,
  ClientTransport,
  ConnectionSink,
  Principal,
} from "../../../src/hub/contracts.ts";
import type { Hub } from "../../../src/hub/hub.ts";

export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeTransport implements ClientTransport {
  readonly remoteAddress = "127.0.0.1:1";
  readonly listener = "tcp://test";
  readonly chunks: Uint8Array[] = [];
  closed = false;
  closeReason: string | undefined;
  accepting = true;
  buffered = 0;
  /** Absent unless a test installs them: a transport that cannot pause is never held. */
  pause?: () => void;
  resume?: () => void;
  write(bytes: Uint8Array): boolean {
    this.chunks.push(bytes.slice());
    return this.accepting;
  }
  close(reason?: string): void {
    this.closed = true;
    this.closeReason = reason;
  }
}

export class TestClient {
  readonly transport = new FakeTransport();
  readonly sink: ConnectionSink;
  readonly packets: Packet[] = [];
  private readonly parser = parser({ protocolVersion: 4 });
  private seen = 0;

  constructor(readonly hub: Hub) {
    this.sink = hub.accept(this.transport);
    this.parser.on("packet", (p: Packet) => this.packets.push(p));
  }

  send(packet: Packet): void {
    this.sink.data(new Uint8Array(generate(packet)));
  }

  raw(bytes: number[] | Uint8Array): void {
    this.sink.data(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  }

  /** Packets received since the last call, after the hub's turn. */
  async take(): Promise<Packet[]> {
    await tick();
    await tick();
    for (const chunk of this.transport.chunks.splice(0)) this.parser.parse(Buffer.from(chunk));
    const out = this.packets.slice(this.seen);
    this.seen = this.packets.length;
    return out;
  }

  async connect(
    options: Partial<{
      clientId: string;
      clean: boolean;
      username: string;
      password: string;
      keepalive: number;
      will: { topic: string; payload: string; qos: 0 | 1 | 2; retain: boolean };
    }> = {},
  ): Promise<Packet> {
    this.send({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clientId: options.clientId ?? "c1",
      clean: options.clean ?? true,
      keepalive: options.keepalive ?? 0,
      username: options.username,
      password: options.password === undefined ? undefined : Buffer.from(options.password),
      will:
        options.will === undefined
          ? undefined
          : { ...options.will, payload: Buffer.from(options.will.payload) },
    });
    const packets = await this.take();
    const connack = packets[0];
    if (connack === undefined) throw new Error("no connack");
    this.seen -= packets.length - 1; // what followed the CONNACK is left for the next take()
    return connack;
  }

  async subscribe(filter: string, qos: 0 | 1 | 2, messageId = 1): Promise<number[]> {
    this.send({ cmd: "subscribe", messageId, subscriptions: [{ topic: filter, qos }] });
    const packets = await this.take();
    const suback = packets.find((p) => p.cmd === "suback");
    if (suback?.cmd !== "suback") throw new Error("no suback");
    return suback.granted as number[];
  }

  publish(
    topic: string,
    payload: string,
    qos: 0 | 1 | 2 = 0,
    retain = false,
    messageId = 1,
    dup = false,
  ): void {
    this.send({ cmd: "publish", topic, payload: Buffer.from(payload), qos, retain, messageId, dup });
  }
}

export function principal(name: string, denied = "secret"): Principal {
  return {
    name,
    canPublish: (topic) => !topic.startsWith(denied),
    canSubscribe: (filter) => !filter.startsWith(denied),
  };
}

/** `bad` passwords → 4, user `nobody` → 5, anyone else admitted (user `slow` answers asynchronously). */
export const testAuthenticator: Authenticator = {
  authenticate(c): AuthResult | Promise<AuthResult> {
    if (c.username === "nobody") return { ok: false, returnCode: 5, reason: "not authorised" };
    if (c.password !== undefined && new TextDecoder().decode(c.password) === "bad") {
      return { ok: false, returnCode: 4, reason: "bad credentials" };
    }
    const result: AuthResult = { ok: true, principal: principal(c.username ?? "anonymous") };
    return c.username === "slow" ? Promise.resolve(result) : result;
  },
};

export function publishes(
  packets: Packet[],
): Array<{ topic: string; payload: string; qos: number; retain: boolean; dup: boolean; messageId?: number }> {
  const out = [];
  for (const p of packets) {
    if (p.cmd !== "publish") continue;
    out.push({
      topic: p.topic,
      payload: p.payload.toString(),
      qos: p.qos,
      retain: p.retain,
      dup: p.dup,
      messageId: p.messageId,
    });
  }
  return out;
}
