// The openedge-hub built-in on the compiled master, driven by real clients: mosquitto_pub/sub and
// the mqtt npm client over tcp, ssl with client certificates, ws and wss; auth refusals, permissions
// and route republishing, all from a service.yml in OpenEdge's format.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import { makeTestPki, type TestPki } from "../fixtures/hub/certs.ts";
import { cleanupAll, type RunningMaster } from "./harness.ts";
import {
  hubConfDir,
  hubWorkDir,
  listenerPorts,
  mosquitto,
  mosquittoSub,
  TEST_PRINCIPAL_YML,
} from "./hub-workdir.ts";
import { MasterApi } from "./master-api.ts";
import { startReady, stopCleanly } from "./workdir.ts";

const HASHED_PASSWORD = "s3cret-hashed";

async function serviceYml(): Promise<string> {
  const hash = await Bun.password.hash(HASHED_PASSWORD);
  return `name: localhub
listen:
  - tcp://127.0.0.1:0
  - ssl://127.0.0.1:0
  - ws://127.0.0.1:0/mqtt
  - wss://127.0.0.1:0/mqtt
certificate:
  ca: tls/ca.pem
  cert: tls/server.pem
  key: tls/server.key
principals:
${TEST_PRINCIPAL_YML}  - username: hashed
    password: "${hash}"
    permissions:
      - {action: pub, permit: ["h/#"]}
      - {action: sub, permit: ["h/+"]}
  - username: device-1
    permissions:
      - {action: pub, permit: ["d/#"]}
subscriptions:
  - {source: {topic: t, qos: 1}, target: {topic: t/topic, qos: 1}}
message:
  egress:
    qos1:
      retry: {interval: 5s}
`;
}

let pki: TestPki;
let workDir: string;
let master: RunningMaster;
let ports: Map<string, number>;
const port = (scheme: string) =>
  ports.get(`${scheme}://127.0.0.1:0${scheme.startsWith("ws") ? "/mqtt" : ""}`) ?? 0;
const TCP = () => ["-h", "127.0.0.1", "-p", String(port("tcp"))];
const TLS = () => ["-h", "127.0.0.1", "-p", String(port("ssl")), "--cafile", pki.caFile];

beforeAll(async () => {
  pki = makeTestPki("device-1");
  workDir = hubWorkDir(await serviceYml());
  const tls = join(hubConfDir(workDir), "tls");
  mkdirSync(tls);
  copyFileSync(pki.caFile, join(tls, "ca.pem"));
  copyFileSync(pki.serverCertFile, join(tls, "server.pem"));
  copyFileSync(pki.serverKeyFile, join(tls, "server.key"));
  master = await startReady(workDir);
  ports = await listenerPorts(master, 4);
});

afterAll(async () => {
  if (master) await stopCleanly(master, workDir);
  cleanupAll();
});

interface Received {
  topic: string;
  payload: string;
}

/** An mqtt.js client that resolves once connected, collecting what arrives. */
async function client(
  url: string,
  options: mqtt.IClientOptions = {},
): Promise<{ c: mqtt.MqttClient; got: Received[] }> {
  const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const got: Received[] = [];
  c.on("message", (topic, payload) => got.push({ topic, payload: payload.toString() }));
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("error", reject);
  });
  return { c, got };
}

/** The CONNACK return code of a refused connection. */
async function refusal(url: string, options: mqtt.IClientOptions): Promise<number | string> {
  const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  try {
    return await new Promise((resolve) => {
      c.once("connect", () => resolve("accepted"));
      c.once("error", (e) => resolve((e as Error & { code?: number }).code ?? e.message));
    });
  } finally {
    c.end(true);
  }
}

async function until(fn: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

describe("hub e2e", () => {
  test("every listener logs its port; the hub shows in inspect", () => {
    for (const scheme of ["tcp", "ssl", "ws", "wss"]) expect(port(scheme)).toBeGreaterThan(0);
    expect(master.lines.some((l) => l.msg === "builtin_started" && l.service === "localhub")).toBe(true);
    // storage.dir's default (var/db/openedge/data) is where OpenEdge's example mounts localhub-data
    expect(existsSync(join(workDir, "var/db/openedge/localhub-data/hub.db"))).toBe(true);
  });

  test("mosquitto_pub → mosquitto_sub over tcp; the route republishes t on t/topic", async () => {
    const sub = mosquittoSub([
      ...TCP(),
      "-u",
      "test",
      "-P",
      "hahaha",
      "-t",
      "t/#",
      "-t",
      "t",
      "-q",
      "1",
      "-v",
      "-C",
      "2",
      "-W",
      "10",
    ]);
    await sub.subscribed;
    const pub = await mosquitto("mosquitto_pub", [
      ...TCP(),
      "-u",
      "test",
      "-P",
      "hahaha",
      "-t",
      "t",
      "-m",
      "hello",
      "-q",
      "1",
    ]);
    expect(pub.code).toBe(0);
    const done = await sub.done;
    expect(done.code).toBe(0);
    expect(sub.messages.sort()).toEqual(["t hello", "t/topic hello"]);
  });

  test("refusals: wrong password and unknown user get 4, no credentials get 5", async () => {
    const url = `mqtt://127.0.0.1:${port("tcp")}`;
    expect(await refusal(url, { username: "test", password: "nope" })).toBe(4);
    expect(await refusal(url, { username: "ghost", password: "x" })).toBe(4);
    expect(await refusal(url, {})).toBe(5);
    expect(await refusal(url, { username: "hashed", password: HASHED_PASSWORD })).toBe("accepted");
    const pub = await mosquitto("mosquitto_pub", [...TCP(), "-u", "test", "-P", "bad", "-t", "x", "-m", "x"]);
    expect(pub.code).not.toBe(0);
    expect(pub.stderr.toLowerCase()).toContain("bad user name or password");
  });

  test("permissions: a filter wider than the permit gets 0x80; an unpermitted publish is dropped", async () => {
    const url = `mqtt://127.0.0.1:${port("tcp")}`;
    const { c: limited } = await client(url, { username: "hashed", password: HASHED_PASSWORD });
    // mqtt.js rejects a SUBACK holding 0x80; the packet rides on the error
    const suback = await limited
      .subscribeAsync({ "h/#": { qos: 1 }, "h/+": { qos: 1 } })
      .catch((e: { packet?: { granted?: number[] } }) => e.packet);
    expect(suback && "granted" in suback ? suback.granted : suback).toEqual([128, 1]);
    const { c: watcher, got } = await client(url, { username: "test", password: "hahaha" });
    await watcher.subscribeAsync("#", { qos: 1 });
    const hashed = [...TCP(), "-u", "hashed", "-P", HASHED_PASSWORD, "-q", "1"];
    // refused publishes are still acknowledged (the client would retry forever otherwise)
    expect((await mosquitto("mosquitto_pub", [...hashed, "-t", "x/forbidden", "-m", "no"])).code).toBe(0);
    expect((await mosquitto("mosquitto_pub", [...hashed, "-t", "h/ok", "-m", "yes"])).code).toBe(0);
    await until(() => got.some((m) => m.topic === "h/ok"), "h/ok");
    expect(got.map((m) => m.topic)).toEqual(["h/ok"]);
    limited.end(true);
    watcher.end(true);
  });

  test("ssl: a client certificate logs in as its certificate principal (no username)", async () => {
    const { c: watcher, got } = await client(`mqtt://127.0.0.1:${port("tcp")}`, {
      username: "test",
      password: "hahaha",
    });
    await watcher.subscribeAsync("d/#", { qos: 1 });
    const pub = await mosquitto("mosquitto_pub", [
      ...TLS(),
      "--cert",
      pki.client.certFile,
      "--key",
      pki.client.keyFile,
      "-t",
      "d/1/temp",
      "-m",
      "21.5",
      "-q",
      "1",
    ]);
    expect(pub.stderr).toBe("");
    expect(pub.code).toBe(0);
    await until(() => got.length > 0, "the device's message");
    expect(got).toEqual([{ topic: "d/1/temp", payload: "21.5" }]);
    watcher.end(true);
  });

  test("ssl: a certificate from another CA is refused; a password without a certificate works", async () => {
    const stranger = await mosquitto("mosquitto_pub", [
      ...TLS(),
      "--cert",
      pki.stranger.certFile,
      "--key",
      pki.stranger.keyFile,
      "-t",
      "d/1",
      "-m",
      "x",
    ]);
    expect(stranger.code).not.toBe(0);
    const byPassword = await mosquitto("mosquitto_pub", [
      ...TLS(),
      "-u",
      "test",
      "-P",
      "hahaha",
      "-t",
      "x",
      "-m",
      "x",
    ]);
    expect(byPassword.code).toBe(0);
    // a certificate principal without a certificate is not authorised
    const noCert = await mosquitto("mosquitto_pub", [...TLS(), "-u", "device-1", "-t", "d/1", "-m", "x"]);
    expect(noCert.code).not.toBe(0);
    expect(noCert.stderr.toLowerCase()).toContain("not authorised");
  });

  test("inspect shows the hub's listeners and statistics", async () => {
    const answer = await new MasterApi(workDir).call("GET", "/v1/system/inspect");
    expect(answer.status).toBe(200);
    const services = (answer.json as { services: Array<Record<string, unknown>> }).services;
    const hub = services.find((s) => s.name === "localhub");
    expect(hub?.listeners).toContainEqual({ url: "tcp://127.0.0.1:0", port: port("tcp") });
    expect(hub?.messagesReceived).toBeGreaterThan(0);
    expect(typeof hub?.clients).toBe("number");
  });

  test("ws and wss carry MQTT for the mqtt npm client", async () => {
    const auth = { username: "test", password: "hahaha" };
    const { c: wsClient, got } = await client(`ws://127.0.0.1:${port("ws")}/mqtt`, auth);
    await wsClient.subscribeAsync("w/#", { qos: 1 });
    const { c: wssClient } = await client(`wss://127.0.0.1:${port("wss")}/mqtt`, {
      ...auth,
      ca: pki.ca,
      rejectUnauthorized: true,
    });
    await wssClient.publishAsync("w/from-wss", "over tls", { qos: 1 });
    const { c: tcpClient } = await client(`mqtt://127.0.0.1:${port("tcp")}`, auth);
    await tcpClient.publishAsync("w/from-tcp", "plain", { qos: 0 });
    await until(() => got.length === 2, "two messages over ws");
    expect(got.sort((a, b) => a.topic.localeCompare(b.topic))).toEqual([
      { topic: "w/from-tcp", payload: "plain" },
      { topic: "w/from-wss", payload: "over tls" },
    ]);
    for (const c of [wsClient, wssClient, tcpClient]) c.end(true);
  });
});
