// The openedge-hub built-in's assembly with a stand-in core: service.yml from the etc/openedge mount,
// storage resolved into the data mount, listeners started, inspect and stop.

import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../../src/config/index.ts";
import type { ClientTransport } from "../../../src/hub/contracts.ts";
import {
  type BuildHubOptions,
  type HubInstance,
  resolveStorageDir,
  startHubModule,
} from "../../../src/hub/module.ts";
import { type LogRecord, SinkLogger } from "../../../src/log/index.ts";

class StubHub implements HubInstance {
  started = false;
  closed = false;
  readonly transports: ClientTransport[] = [];
  constructor(readonly options: BuildHubOptions) {}
  start(): void {
    this.started = true;
  }
  close(): void {
    this.closed = true;
    for (const t of this.transports) t.close();
  }
  stats(): object {
    return { clients: this.transports.length };
  }
  accept(t: ClientTransport) {
    this.transports.push(t);
    return { data: (b: Uint8Array) => void t.write(b.slice()), drained() {}, closed() {} };
  }
}

function setup(serviceYml: string) {
  const root = mkdtempSync(join(tmpdir(), "oe-hub-module-"));
  const conf = join(root, "localhub-conf");
  mkdirSync(conf);
  writeFileSync(join(conf, "service.yml"), serviceYml);
  const records: LogRecord[] = [];
  const log = new SinkLogger([{ write: (r) => void records.push(r) }], "debug");
  let hub: StubHub | undefined;
  const mounts = { "etc/openedge": conf, "var/db/openedge/data": join(root, "localhub-data") };
  const start = (env: Record<string, string> = {}) =>
    startHubModule({
      env,
      mounts,
      service: "localhub",
      log,
      fallbackDir: (s) => join(root, "fallback", s),
      buildHub: (o) => {
        hub = new StubHub(o);
        return hub;
      },
    });
  return { root, records, start, hubOf: () => hub };
}

describe("hub module", () => {
  test("assembles config, storage, authenticator and listeners; inspect and stop", async () => {
    const { root, records, start, hubOf } = setup(
      "listen: [tcp://127.0.0.1:0]\nprincipals: [{username: u, password: '{{.PW}}'}]\nsubscriptions: [{source: {topic: a}, target: {topic: b}}]\nbogus: 1\n",
    );
    const running = await start({ PW: "p" });
    const hub = hubOf();
    expect(hub?.started).toBe(true);
    expect(running.storageDir).toBe(join(root, "localhub-data"));
    expect(hub?.options.config.subscriptions.length).toBe(1);
    const auth = await hub?.options.authenticator.authenticate({
      clientId: "c",
      listener: "l",
      username: "u",
      password: new TextEncoder().encode("p"),
    });
    expect(auth?.ok).toBe(true);
    expect(records.find((r) => r.msg === "config_warning")?.fields.warning).toBe("bogus: unknown key");
    const port = running.listeners[0]?.port ?? 0;
    expect(records.find((r) => r.msg === "hub_listening")?.fields.port).toBe(port);
    const socket = connect(port, "127.0.0.1");
    const echoed = await new Promise<string>((resolve) => {
      socket.on("data", (d) => resolve(d.toString()));
      socket.write("ping");
    });
    expect(echoed).toBe("ping");
    expect(running.inspect?.()).toEqual({ listeners: [{ url: "tcp://127.0.0.1:0", port }], clients: 1 });
    const gone = new Promise((r) => socket.on("close", r));
    await running.stop();
    await gone;
    expect(hub?.closed).toBe(true);
    expect(records.some((r) => r.msg === "hub_stopped")).toBe(true);
  });

  test("a bad service.yml fails with every path named; no core is built", async () => {
    const { start, hubOf } = setup(
      "listen: [udp://x:1]\nprincipals: [{username: u, permissions: [{action: all}]}]\n",
    );
    const err = await start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      "listen[0]: scheme must be one of tcp, mqtt, ssl, tls, mqtts, ws, wss",
      "principals[0].permissions[0].action: must be one of pub, sub",
    ]);
    expect(hubOf()).toBeUndefined();
  });

  test("a listener that cannot start closes the core again", async () => {
    const { start, hubOf } = setup(
      "listen: [ssl://127.0.0.1:0]\ncertificate: {cert: missing.pem, key: missing.key}\n",
    );
    await expect(start()).rejects.toThrow("cannot read certificate.cert");
    expect(hubOf()?.closed).toBe(true);
  });

  test("storage dir: absolute, inside the data mount, or under the fallback", () => {
    const mounts = {
      "etc/openedge": "/v/conf",
      "var/db/openedge/data": "/v/data",
      "var/db/openedge/data/x": "/v/x",
    };
    expect(resolveStorageDir("/abs/db", mounts, "/fb")).toBe("/abs/db");
    expect(resolveStorageDir("var/db/openedge/data", mounts, "/fb")).toBe("/v/data");
    expect(resolveStorageDir("./var/db/openedge/data/", mounts, "/fb")).toBe("/v/data");
    expect(resolveStorageDir("var/db/openedge/data/hub", mounts, "/fb")).toBe("/v/data/hub");
    expect(resolveStorageDir("var/db/openedge/data/x/y", mounts, "/fb")).toBe("/v/x/y");
    expect(resolveStorageDir("var/db/openedge/datax", mounts, "/fb")).toBe("/fb/var/db/openedge/datax");
  });
});
