// A bare MQTT 3.1.1 client over TCP for e2e tests that must decide every acknowledgement themselves
// (mqtt.js answers PUBREC with PUBREL and PUBREL with PUBCOMP on its own): it sends the packets it is
// given and records every packet it receives, in order.

import type { Socket } from "bun";
import { generate, type IConnackPacket, type Packet, parser } from "mqtt-packet";

interface Waiter {
  from: number;
  test: (p: Packet) => boolean;
  resolve: (p: Packet) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class RawClient {
  /** Every packet received, in order. */
  readonly packets: Packet[] = [];
  private readonly parser = parser({ protocolVersion: 4 });
  private waiters: Waiter[] = [];
  private isClosed = false;

  private constructor(private readonly socket: Socket<undefined>) {
    this.parser.on("packet", (p: Packet) => this.received(p));
  }

  /** Connects and sends CONNECT; resolves with the client and its CONNACK. */
  static async connect(
    port: number,
    options: { clientId: string; clean: boolean; username?: string; password?: string },
  ): Promise<{ client: RawClient; connack: IConnackPacket }> {
    let client: RawClient | undefined;
    const pending: Uint8Array[] = [];
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, data) {
          if (client === undefined) pending.push(data);
          else client.parser.parse(Buffer.from(data));
        },
        close() {
          client?.ended();
        },
        error() {
          client?.ended();
        },
      },
    });
    client = new RawClient(socket);
    for (const chunk of pending) client.parser.parse(Buffer.from(chunk));
    client.send({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clientId: options.clientId,
      clean: options.clean,
      keepalive: 0,
      username: options.username,
      password: options.password === undefined ? undefined : Buffer.from(options.password),
    });
    const connack = await client.next("connack");
    if (connack.cmd !== "connack") throw new Error("unreachable");
    return { client, connack };
  }

  send(packet: Packet): void {
    this.socket.write(generate(packet));
  }

  /**
   * The first packet of type `cmd` (and passing `test`) received at index `from` or later, already
   * there or yet to come; rejects when none arrives within `timeoutMs` or the connection ends first.
   */
  next(
    cmd: Packet["cmd"],
    test: (p: Packet) => boolean = () => true,
    from = 0,
    timeoutMs = 10_000,
  ): Promise<Packet> {
    const match = (p: Packet) => p.cmd === cmd && test(p);
    const seen = this.packets.slice(from).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.isClosed) return Promise.reject(new Error(`connection closed before a ${cmd}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(
          new Error(`no ${cmd} within ${timeoutMs} ms; got ${this.packets.map((p) => p.cmd).join(", ")}`),
        );
      }, timeoutMs);
      this.waiters.push({ from, test: match, resolve, reject, timer });
    });
  }

  /** A PINGREQ/PINGRESP round trip: everything the hub sent before its answer has arrived by then. */
  async roundTrip(): Promise<void> {
    const from = this.packets.length;
    this.send({ cmd: "pingreq" });
    await this.next("pingresp", () => true, from);
  }

  /** Closes the socket without DISCONNECT. */
  close(): void {
    this.socket.end();
  }

  private received(p: Packet): void {
    this.packets.push(p);
    const index = this.packets.length - 1;
    this.waiters = this.waiters.filter((w) => {
      if (index < w.from || !w.test(p)) return true;
      clearTimeout(w.timer);
      w.resolve(p);
      return false;
    });
  }

  private ended(): void {
    this.isClosed = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error("connection closed"));
    }
  }
}
