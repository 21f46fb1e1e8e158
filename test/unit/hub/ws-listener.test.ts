// ws:// and wss:// on the hub's own RFC 6455 server, over real sockets: certificate principals logging
// in over wss with the mqtt npm client (certificates made by openssl here), refusals of foreign and
// missing certificates, and the protocol as a raw client sees it (close codes, ping, fragments, limits,
// a slow reader getting whole frames).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect as netConnect, type Socket } from "node:net";
import mqtt from "mqtt";
import { generate } from "mqtt-packet";
import { Hub } from "../../../src/hub/hub.ts";
import { PrincipalAuthenticator } from "../../../src/hub/index.ts";
import { type RunningListener, startListeners } from "../../../src/hub/listeners/index.ts";
import { encodeClose, encodeFrame, Opcode } from "../../../src/hub/listeners/ws-frames.ts";
import { type LogRecord, SinkLogger } from "../../../src/log/index.ts";
import { makeTestPki, type TestPki } from "../../fixtures/hub/certs.ts";
import { startFlood, until, url } from "./listener-helpers.ts";

const MASK = Uint8Array.from([1, 2, 3, 4]);

interface ServerFrame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** A hand-driven WebSocket client on a plain TCP socket: what it sends is exactly what a test wrote. */
class RawClient {
  readonly socket: Socket;
  private buffer = Buffer.alloc(0);
  private headDone = false;
  head = "";
  readonly frames: ServerFrame[] = [];
  closed = false;

  constructor(port: number) {
    this.socket = netConnect(port, "127.0.0.1");
    this.socket.on("data", (d: Buffer) => this.read(d));
    this.socket.on("close", () => {
      this.closed = true;
    });
    this.socket.on("error", () => {});
  }

  static async upgraded(port: number, protocol = "mqtt"): Promise<RawClient> {
    const c = new RawClient(port);
    c.send(
      "GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
    );
    await until(() => c.headDone, "the 101 response");
    expect(c.head.startsWith("HTTP/1.1 101 Switching Protocols\r\n")).toBe(true);
    return c;
  }

  send(bytes: Uint8Array | string): void {
    this.socket.write(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
  }

  /** A masked client frame. */
  frame(opcode: number, payload: Uint8Array | number[], fin = true): void {
    this.send(encodeFrame(opcode, Uint8Array.from(payload), { fin, mask: MASK }));
  }

  /** The server's close frame, once it came and the socket closed: its code. */
  async closeCode(): Promise<number | undefined> {
    await until(() => this.closed, "the server to close the connection");
    const close = this.frames.find((f) => f.opcode === Opcode.close);
    return close === undefined || close.payload.length < 2 ? undefined : close.payload.readUInt16BE(0);
  }

  private read(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    if (!this.headDone) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      this.head = this.buffer.subarray(0, end + 4).toString("latin1");
      this.buffer = this.buffer.subarray(end + 4);
      this.headDone = true;
    }
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      const len7 = (b[1] ?? 0) & 0x7f;
      const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
      if (b.length < 2 + ext) return;
      const length = ext === 0 ? len7 : ext === 2 ? b.readUInt16BE(2) : Number(b.readBigUInt64BE(2));
      if (b.length < 2 + ext + length) return;
      this.frames.push({
        fin: ((b[0] ?? 0) & 0x80) !== 0,
        opcode: (b[0] ?? 0) & 0x0f,
        masked: ((b[1] ?? 0) & 0x80) !== 0,
        payload: b.subarray(2 + ext, 2 + ext + length),
      });
      this.buffer = b.subarray(2 + ext + length);
    }
  }
}

let pki: TestPki;
let hub: Hub;
const records: LogRecord[] = [];
const log = new SinkLogger([{ write: (r) => void records.push(r) }], "debug");
let listeners: RunningListener[] = [];
const port = (kind: string) => listeners.find((l) => l.kind === kind)?.port ?? 0;

beforeAll(async () => {
  pki = makeTestPki("device-1");
  hub = new Hub({
    authenticator: new PrincipalAuthenticator({
      anonymous: false,
      principals: [
        {
          username: "test",
          password: "hahaha",
          permissions: [
            { action: "pub", permit: ["#"] },
            { action: "sub", permit: ["#"] },
          ],
        },
        {
          username: "device-1",
          permissions: [
            { action: "pub", permit: ["d/#"] },
            { action: "sub", permit: ["cmd/device-1"] },
          ],
        },
      ],
    }),
  });
  await hub.start();
  listeners = startListeners([url("ws://127.0.0.1:0/mqtt"), url("wss://127.0.0.1:0/mqtt")], {
    core: hub,
    log,
    certificate: { ca: pki.caFile, cert: pki.serverCertFile, key: pki.serverKeyFile },
  });
});

afterAll(async () => {
  for (const l of listeners) l.stop(true);
  await hub.close();
});

const OPTIONS: mqtt.IClientOptions = { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 };
const wss = () => `wss://127.0.0.1:${port("wss")}/mqtt`;

/** Connected, or the CONNACK code / error that refused it. */
async function attempt(
  address: string,
  options: mqtt.IClientOptions,
): Promise<mqtt.MqttClient | string | number> {
  const c = mqtt.connect(address, { ...OPTIONS, ...options });
  const outcome = await new Promise<"connected" | string | number>((resolve) => {
    c.once("connect", () => resolve("connected"));
    c.once("error", (e) => resolve((e as Error & { code?: number }).code ?? e.message));
    c.once("close", () => resolve("closed"));
  });
  if (outcome === "connected") return c;
  c.end(true);
  return outcome;
}

async function connected(address: string, options: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  const c = await attempt(address, options);
  if (typeof c === "string" || typeof c === "number") throw new Error(`not connected: ${c}`);
  return c;
}

describe("wss with client certificates (mqtt npm client)", () => {
  test("a certificate signed by the CA logs in as its certificate principal, with its permissions", async () => {
    const watcher = await connected(`ws://127.0.0.1:${port("ws")}/mqtt`, {
      username: "test",
      password: "hahaha",
    });
    const got: string[] = [];
    watcher.on("message", (topic, payload) => got.push(`${topic} ${payload}`));
    await watcher.subscribeAsync("#", { qos: 1 });
    // no username: the certificate's CN names the principal
    const device = await connected(wss(), { ca: pki.ca, cert: pki.client.cert, key: pki.client.key });
    await device.publishAsync("d/1/temp", "21.5", { qos: 1 });
    // outside its permit: acknowledged but dropped, which only device-1's permissions explain
    await device.publishAsync("x/forbidden", "no", { qos: 1 });
    await device.publishAsync("d/1/done", "", { qos: 1 });
    await until(() => got.includes("d/1/done "), "the device's messages");
    expect(got).toEqual(["d/1/temp 21.5", "d/1/done "]);
    device.end(true);
    watcher.end(true);
  });

  test("a certificate from another CA is refused before MQTT, and logged", async () => {
    const before = records.filter((r) => r.msg === "hub_tls_client_refused").length;
    const outcome = await attempt(wss(), { ca: pki.ca, cert: pki.stranger.cert, key: pki.stranger.key });
    expect(typeof outcome === "string" || typeof outcome === "number").toBe(true);
    await until(
      () => records.filter((r) => r.msg === "hub_tls_client_refused").length > before,
      "hub_tls_client_refused",
    );
  });

  test("without a certificate, the certificate principal is not authorised (5); a password still works", async () => {
    expect(await attempt(wss(), { ca: pki.ca, username: "device-1" })).toBe(5);
    const byPassword = await connected(wss(), { ca: pki.ca, username: "test", password: "hahaha" });
    byPassword.end(true);
  });

  test("hub_listening says wss verifies client certificates", () => {
    const wssListening = records.find((r) => r.msg === "hub_listening" && r.fields.kind === "wss");
    expect(wssListening?.fields.client_certificates).toBe(true);
  });
});

describe("the WebSocket protocol on the wire (raw client over ws)", () => {
  test("an MQTT CONNECT in fragments with a ping between them: pong first, then the CONNACK in one binary frame", async () => {
    const c = await RawClient.upgraded(port("ws"));
    const connect = generate({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clientId: "raw-1",
      clean: true,
      keepalive: 0,
      username: "test",
      password: Buffer.from("hahaha"),
    });
    c.frame(Opcode.binary, connect.subarray(0, 5), false);
    c.frame(Opcode.ping, [7, 7]);
    c.frame(Opcode.continuation, connect.subarray(5, 9), false);
    c.frame(Opcode.continuation, connect.subarray(9), true);
    await until(() => c.frames.length >= 2, "pong and CONNACK");
    expect(c.frames.map((f) => [f.opcode, f.fin, f.masked, [...f.payload]])).toEqual([
      [Opcode.pong, true, false, [7, 7]],
      [Opcode.binary, true, false, [0x20, 0x02, 0x00, 0x00]],
    ]);
    c.socket.destroy();
  });

  test("a client's close is echoed with its code, then the connection ends", async () => {
    const c = await RawClient.upgraded(port("ws"));
    c.send(encodeClose(1000, "done", { mask: MASK }));
    expect(await c.closeCode()).toBe(1000);
  });

  test("an unmasked frame closes with 1002", async () => {
    const c = await RawClient.upgraded(port("ws"));
    c.send(encodeFrame(Opcode.binary, Uint8Array.from([0xc0, 0x00])));
    expect(await c.closeCode()).toBe(1002);
  });

  test("a text frame closes with 1003 [MQTT-6.0.0-1]", async () => {
    const c = await RawClient.upgraded(port("ws"));
    c.frame(Opcode.text, [...Buffer.from("hello")]);
    expect(await c.closeCode()).toBe(1003);
    await until(
      () => records.find((r) => r.msg === "hub_ws_protocol_error" && r.fields.close_code === 1003),
      "log",
    );
  });

  test("a frame following the request head in the same write is read", async () => {
    const c = new RawClient(port("ws"));
    const head =
      "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    c.send(
      Buffer.concat([Buffer.from(head), encodeFrame(Opcode.ping, Uint8Array.from([5]), { mask: MASK })]),
    );
    await until(() => c.frames.length > 0, "the pong");
    expect(c.head).not.toContain("Sec-WebSocket-Protocol");
    expect(c.frames[0]?.opcode).toBe(Opcode.pong);
    c.socket.destroy();
  });

  test("a plain GET on the path gets 426; another path 404; a head past 8 KiB 431, whatever the reads", async () => {
    expect((await fetch(`http://127.0.0.1:${port("ws")}/mqtt`)).status).toBe(426);
    expect((await fetch(`http://127.0.0.1:${port("ws")}/other`)).status).toBe(404);
    const c = new RawClient(port("ws"));
    c.send("GET /mqtt HTTP/1.1\r\nHost: x\r\n");
    for (let i = 0; i < 10; i++) c.send(`X-Pad-${i}: ${"a".repeat(1000)}\r\n`);
    await until(() => c.closed, "the connection to close");
    expect(c.head.startsWith("HTTP/1.1 431 ")).toBe(true);
  });
});

describe("limits and backpressure (separate listeners)", () => {
  test("a message over wsMaxMessageBytes closes with 1009", async () => {
    const [small] = startListeners([url("ws://127.0.0.1:0/mqtt")], {
      core: hub,
      log,
      certificate: {},
      wsMaxMessageBytes: 1024,
    });
    try {
      const c = await RawClient.upgraded(small?.port ?? 0);
      // the header alone says too much: no payload needs to follow (zeros would be bad MQTT anyway)
      c.send(encodeFrame(Opcode.binary, new Uint8Array(2048), { mask: MASK }).subarray(0, 8));
      expect(await c.closeCode()).toBe(1009);
    } finally {
      small?.stop(true);
    }
  });

  test("a client that never finishes the upgrade is cut after the handshake timeout", async () => {
    const [slow] = startListeners([url("ws://127.0.0.1:0/mqtt")], {
      core: hub,
      log,
      certificate: {},
      wsHandshakeTimeoutMs: 50,
    });
    try {
      const c = new RawClient(slow?.port ?? 0);
      c.send("GET /mqtt HTTP/1.1\r\n");
      await until(() => c.closed, "the connection to be cut");
      expect(records.some((r) => r.msg === "hub_ws_upgrade_timeout")).toBe(true);
    } finally {
      slow?.stop(true);
    }
  });

  test("a slow reader: write says false, drained() follows, every write arrives as one whole frame in order, the pong between whole frames", async () => {
    const count = 256;
    let sent = 0;
    const next = () => (sent < count ? new Uint8Array(64 * 1024).fill(sent++ % 251) : undefined);
    const { listener: flood, events } = startFlood("ws://127.0.0.1:0/mqtt", log, next, "data");
    try {
      const c = await RawClient.upgraded(flood?.port ?? 0);
      c.socket.pause();
      c.frame(Opcode.binary, [0]);
      await until(() => events.includes("full"), "write() to return false");
      // the pong queues behind the data: it must not land inside a half-sent frame
      c.frame(Opcode.ping, [9]);
      c.socket.resume();
      await until(() => c.frames.length === count + 1, `all ${count} frames and the pong`, 20_000);
      expect(events).toContain("drained");
      const pongs = c.frames.filter((f) => f.opcode === Opcode.pong);
      expect(pongs.map((f) => [...f.payload])).toEqual([[9]]);
      const data = c.frames.filter((f) => f.opcode !== Opcode.pong);
      for (const [i, f] of data.entries()) {
        expect([f.opcode, f.fin, f.masked, f.payload.length]).toEqual([
          Opcode.binary,
          true,
          false,
          64 * 1024,
        ]);
        expect(f.payload[0] === i % 251 && f.payload[65_535] === i % 251).toBe(true);
      }
      c.socket.destroy();
    } finally {
      flood?.stop(true);
    }
  });
});
