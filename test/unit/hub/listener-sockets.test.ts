// Listeners over real sockets with an echo core: tcp, ssl with client certificates (made by openssl
// here), ws and wss with the MQTT subprotocols, and backpressure against a client that stops reading.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ClientTransport, ConnectionSink, HubCore } from "../../../src/hub/contracts.ts";
import { type RunningListener, startListeners } from "../../../src/hub/listeners/index.ts";
import { type LogRecord, SinkLogger } from "../../../src/log/index.ts";
import { makeTestPki, type TestPki } from "../../fixtures/hub/certs.ts";
import { startFlood, until, url } from "./listener-helpers.ts";

/** Echoes every byte back and remembers each transport it accepted. */
class EchoCore implements HubCore {
  readonly accepted: ClientTransport[] = [];
  readonly closed: Array<Error | undefined> = [];
  accept(transport: ClientTransport): ConnectionSink {
    this.accepted.push(transport);
    return {
      data: (bytes) => void transport.write(bytes.slice()),
      drained: () => {},
      closed: (e) => void this.closed.push(e),
    };
  }
}

let pki: TestPki;
const records: LogRecord[] = [];
const log = new SinkLogger([{ write: (r) => void records.push(r) }], "debug");
const core = new EchoCore();
let listeners: RunningListener[] = [];
const port = (kind: string) => listeners.find((l) => l.kind === kind)?.port ?? 0;

beforeAll(() => {
  pki = makeTestPki("device-1");
  listeners = startListeners(
    [
      url("tcp://127.0.0.1:0"),
      url("ssl://127.0.0.1:0"),
      url("ws://127.0.0.1:0/mqtt"),
      url("wss://127.0.0.1:0/mqtt"),
    ],
    { core, log, certificate: { ca: pki.caFile, cert: pki.serverCertFile, key: pki.serverKeyFile } },
  );
});

afterAll(() => {
  for (const l of listeners) l.stop(true);
});

/** Sends `text` and resolves with what comes back once `text.length` bytes arrived. */
function echoOver(socket: import("node:net").Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    socket.on("data", (d) => {
      got += d.toString();
      if (got.length >= text.length) resolve(got);
    });
    socket.on("error", reject);
    socket.write(text);
  });
}

describe("listeners", () => {
  test("hub_listening logs the port the OS chose", () => {
    const logged = records.filter((r) => r.msg === "hub_listening").map((r) => r.fields);
    expect(logged.map((f) => f.kind)).toEqual(["tcp", "ssl", "ws", "wss"]);
    for (const f of logged) expect(f.port).toBeGreaterThan(0);
    expect(logged[1]?.client_certificates).toBe(true);
  });

  test("tcp echoes and reports the remote address and listener", async () => {
    const before = core.accepted.length;
    const socket = netConnect(port("tcp"), "127.0.0.1");
    expect(await echoOver(socket, "hello tcp")).toBe("hello tcp");
    const t = core.accepted[before];
    expect(t?.listener).toBe("tcp://127.0.0.1:0");
    expect(t?.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(t?.peerCertificate).toBeUndefined();
    socket.end();
    await until(() => core.closed.length > 0, "closed() after the peer left");
  });

  test("concurrent connections keep their own transports (regression: shared socket data)", async () => {
    const a = netConnect(port("tcp"), "127.0.0.1");
    const b = netConnect(port("tcp"), "127.0.0.1");
    await Promise.all([new Promise((r) => a.on("connect", r)), new Promise((r) => b.on("connect", r))]);
    expect(await echoOver(a, "from a")).toBe("from a");
    expect(await echoOver(b, "from b")).toBe("from b");
    a.end();
    b.end();
  });

  test("ssl with a client certificate signed by the CA exposes its CN and fingerprint", async () => {
    const before = core.accepted.length;
    const socket = tlsConnect({
      port: port("ssl"),
      host: "127.0.0.1",
      ca: pki.ca,
      cert: pki.client.cert,
      key: pki.client.key,
    });
    expect(await echoOver(socket, "hello tls")).toBe("hello tls");
    const cert = core.accepted[before]?.peerCertificate;
    expect(cert?.subjectCN).toBe("device-1");
    expect(cert?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    socket.end();
  });

  test("ssl without a client certificate is served (password login stays possible)", async () => {
    const before = core.accepted.length;
    const socket = tlsConnect({ port: port("ssl"), host: "127.0.0.1", ca: pki.ca });
    expect(await echoOver(socket, "no cert")).toBe("no cert");
    expect(core.accepted[before]?.peerCertificate).toBeUndefined();
    socket.end();
  });

  test("ssl with a certificate from an unknown CA is refused before the core sees it", async () => {
    const before = core.accepted.length;
    const socket = tlsConnect({
      port: port("ssl"),
      host: "127.0.0.1",
      ca: pki.ca,
      cert: pki.stranger.cert,
      key: pki.stranger.key,
    });
    await new Promise<void>((resolve) => {
      socket.on("close", () => resolve());
      socket.on("error", () => {});
      socket.on("secureConnect", () => socket.write("x"));
    });
    expect(core.accepted.length).toBe(before);
    await until(() => records.find((r) => r.msg === "hub_tls_client_refused"), "hub_tls_client_refused");
  });

  for (const kind of ["ws", "wss"] as const) {
    test(`${kind} upgrades on the path with subprotocol mqtt and echoes binary frames`, async () => {
      const scheme = kind === "ws" ? "ws" : "wss";
      const ws = new WebSocket(`${scheme}://127.0.0.1:${port(kind)}/mqtt`, {
        protocols: ["mqtt"],
        tls: { ca: pki.ca },
      } as unknown as string[]);
      ws.binaryType = "arraybuffer";
      const got = new Promise<Uint8Array>((resolve, reject) => {
        ws.onmessage = (e) => resolve(new Uint8Array(e.data as ArrayBuffer));
        ws.onerror = () => reject(new Error("websocket error"));
      });
      await new Promise((r) => (ws.onopen = r));
      expect(ws.protocol).toBe("mqtt");
      ws.send(new Uint8Array([0xc0, 0x00]));
      expect([...(await got)]).toEqual([0xc0, 0x00]);
      ws.close();
    });
  }

  test("ws refuses other paths and foreign subprotocols", async () => {
    const res = await fetch(`http://127.0.0.1:${port("ws")}/other`);
    expect(res.status).toBe(404);
    const ws = new WebSocket(`ws://127.0.0.1:${port("ws")}/mqtt`, ["chat"]);
    const outcome = await new Promise<string>((resolve) => {
      ws.onopen = () => resolve("open");
      ws.onerror = () => resolve("error");
    });
    expect(outcome).toBe("error");
  });

  test("mqttv3.1 is accepted too", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port("ws")}/mqtt`, ["mqttv3.1"]);
    await new Promise((r) => (ws.onopen = r));
    expect(ws.protocol).toBe("mqttv3.1");
    ws.close();
  });

  test("a client that stops reading: write says false, drained() follows, every byte arrives in order", async () => {
    const total = 64 * 1024 * 1024;
    const chunk = Uint8Array.from({ length: 64 * 1024 }, (_, i) => i % 251);
    let sent = 0;
    const next = () => {
      if (sent >= total) return undefined;
      sent += chunk.length;
      return chunk;
    };
    const {
      listener: flood,
      events,
      transport: current,
    } = startFlood("tcp://127.0.0.1:0", log, next, "accept");
    try {
      const socket = netConnect(flood?.port ?? 0, "127.0.0.1");
      socket.pause();
      await until(() => events.includes("full"), "write() to return false");
      expect(current()?.buffered).toBeGreaterThan(1 << 20);
      expect(current()?.buffered).toBeLessThan((1 << 20) + 2 * chunk.length);
      let received = 0;
      let inOrder = true;
      socket.on("data", (d: Buffer) => {
        for (let i = 0; i < d.length; i += 4096)
          if (d[i] !== ((received + i) % (64 * 1024)) % 251) inOrder = false;
        received += d.length;
      });
      socket.resume();
      await until(() => received === total, `all ${total} bytes (got ${received})`, 20_000);
      expect(inOrder).toBe(true);
      expect(events.filter((e) => e === "drained").length).toBeGreaterThan(0);
      socket.end();
    } finally {
      flood?.stop(true);
    }
  });

  test("a port in use fails with the listener named, and starts nothing", () => {
    expect(() =>
      startListeners([url("tcp://127.0.0.1:0"), url(`tcp://127.0.0.1:${port("tcp")}`)], {
        core,
        log,
        certificate: {},
      }),
    ).toThrow(`cannot listen on tcp://127.0.0.1:${port("tcp")}`);
  });
});
