// The core over real sockets: the mqtt npm client, Debian's mosquitto_pub/mosquitto_sub, and
// random or truncated bytes from many connections.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import mqtt from "mqtt";
import { Hub } from "../../../src/hub/hub.ts";
import { listenTcp, type TcpAdapter } from "../../fixtures/hub/tcp-adapter.ts";
import { testAuthenticator } from "./helpers.ts";

let hub: Hub;
let tcp: TcpAdapter;
beforeAll(async () => {
  hub = new Hub({ authenticator: testAuthenticator });
  await hub.start();
  tcp = listenTcp(hub);
});
afterAll(async () => {
  tcp.stop();
  await hub.close();
});

const url = () => `mqtt://127.0.0.1:${tcp.port}`;
const hasMosquitto = Bun.which("mosquitto_sub") !== null;

describe("over TCP", () => {
  test("mqtt npm client: QoS 0/1/2 round trip, retained with RETAIN=1 for a new subscriber", async () => {
    const a = await mqtt.connectAsync(url(), { clientId: "npm-a", protocolVersion: 4 });
    await a.publishAsync("npm/retained", "r", { qos: 1, retain: true });
    const b = await mqtt.connectAsync(url(), { clientId: "npm-b", protocolVersion: 4 });
    const got: Array<[string, string, number, boolean]> = [];
    const all = new Promise<void>((resolve) => {
      b.on("message", (topic, payload, packet) => {
        got.push([topic, payload.toString(), packet.qos, packet.retain]);
        if (got.length === 4) resolve();
      });
    });
    await b.subscribeAsync("npm/#", { qos: 2 });
    for (const qos of [0, 1, 2] as const) await a.publishAsync(`npm/q${qos}`, `m${qos}`, { qos });
    await all;
    expect(got).toEqual([
      ["npm/retained", "r", 1, true],
      ["npm/q0", "m0", 0, false],
      ["npm/q1", "m1", 1, false],
      ["npm/q2", "m2", 2, false],
    ]);
    await a.endAsync();
    await b.endAsync();
  });

  test.skipIf(!hasMosquitto)("mosquitto_pub → mosquitto_sub at QoS 2", async () => {
    const port = String(tcp.port);
    const sub = Bun.spawn(
      ["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "mos/#", "-q", "2", "-C", "3", "-v"],
      {
        stdout: "pipe",
      },
    );
    // Publish until the subscriber is in (no sleeps: its subscription shows in the hub's stats).
    while (hub.stats().subscriptions === 0) await Bun.sleep(5);
    for (const [i, qos] of [0, 1, 2].entries()) {
      const pub = Bun.spawn([
        "mosquitto_pub",
        "-h",
        "127.0.0.1",
        "-p",
        port,
        "-t",
        `mos/${i}`,
        "-q",
        String(qos),
        "-m",
        `v${i}`,
      ]);
      expect(await pub.exited).toBe(0);
    }
    expect(await sub.exited).toBe(0);
    expect((await new Response(sub.stdout).text()).trim().split("\n")).toEqual([
      "mos/0 v0",
      "mos/1 v1",
      "mos/2 v2",
    ]);
  });

  test("malformed input: random and truncated bytes from many connections never take the hub down", async () => {
    const valid = [0x10, 0x0d, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 0, 0, 1, 0x7a];
    const scripts: number[][] = [];
    for (let i = 0; i < 60; i++) {
      const random = Array.from({ length: 1 + Math.floor(Math.random() * 200) }, () =>
        Math.floor(Math.random() * 256),
      );
      if (i % 3 === 0) scripts.push(random);
      else if (i % 3 === 1) scripts.push(valid.slice(0, 1 + (i % valid.length)));
      else scripts.push([...valid, ...random]); // a good CONNECT followed by garbage
    }
    await Promise.all(
      scripts.map(
        (bytes) =>
          new Promise<void>((resolve) => {
            const s = connect(tcp.port, "127.0.0.1", () => {
              s.write(Buffer.from(bytes));
              s.end();
            });
            s.on("data", () => {}); // consume, or "close" never comes
            s.on("error", () => resolve());
            s.on("close", () => resolve());
          }),
      ),
    );
    const c = await mqtt.connectAsync(url(), { clientId: "after-garbage", protocolVersion: 4 });
    await c.subscribeAsync("alive", { qos: 1 });
    const got = new Promise<string>((resolve) => c.on("message", (_t, p) => resolve(p.toString())));
    await c.publishAsync("alive", "yes", { qos: 1 });
    expect(await got).toBe("yes");
    await c.endAsync();
  });
});
