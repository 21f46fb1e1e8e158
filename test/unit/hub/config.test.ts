// service.yml of the hub: OpenEdge's keys and ours, defaults, exact-path errors, warnings.

import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../../src/config/index.ts";
import { type HubConfig, parseHubConfig } from "../../../src/hub/config.ts";
import { DEFAULT_HUB_LIMITS } from "../../../src/hub/contracts.ts";
import { DEFAULT_BUSY_POLL_MS } from "../../../src/lib/busy-poll.ts";

const FILE = "/srv/edge/var/db/openedge/localhub-conf/service.yml";

function hub(text: string, env: Record<string, string> = {}): { config: HubConfig; warnings: string[] } {
  return parseHubConfig(text, { env, file: FILE });
}

function errors(text: string): string[] {
  try {
    hub(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error("expected a ConfigError");
}

describe("hub config", () => {
  test("the example's service.yml reads with no warnings", async () => {
    const text = await Bun.file(
      `${import.meta.dir}/../../../etc/openedge/volumes/localhub-conf/service.yml`,
    ).text();
    const { config, warnings } = hub(text);
    expect(warnings).toEqual([]);
    expect(config.name).toBe("localhub");
    expect(config.listen).toEqual([
      { url: "tcp://0.0.0.0:1883", kind: "tcp", host: "0.0.0.0", port: 1883, path: "/" },
    ]);
    expect(config.principals[0]?.username).toBe("test");
    expect(config.subscriptions).toEqual([
      { source: { topic: "t", qos: 0 }, target: { topic: "t/topic", qos: 0 } },
    ]);
    expect(config.anonymous).toBe(false);
    expect(config.storage.dir).toBe("var/db/openedge/data");
    expect(config.limits).toEqual(DEFAULT_HUB_LIMITS);
  });

  test("busypoll: 200us by default where there is more than one CPU, a duration up to 10ms", () => {
    expect(hub("listen: [tcp://h:1]").config.busyPollMs).toBe(DEFAULT_BUSY_POLL_MS);
    expect(hub("listen: [tcp://h:1]\nbusypoll: 0").config.busyPollMs).toBe(0);
    expect(hub("listen: [tcp://h:1]\nbusypoll: 300us").config.busyPollMs).toBeCloseTo(0.3, 9);
    expect(errors("listen: [tcp://h:1]\nbusypoll: 1s")).toEqual(["busypoll: must be at most 10ms"]);
  });

  test("listener schemes and their aliases", () => {
    const { config } = hub(
      `listen: [mqtt://127.0.0.1:0, "tcp://:1884", "tls://h:8883", "mqtts://h:8884", "ssl://[::1]:8885", "ws://0.0.0.0:8080/mqtt", "wss://h:8443"]
certificate: {cert: tls/server.pem, key: /abs/server.key, ca: ../ca.pem}`,
    );
    expect(config.listen.map((l) => [l.kind, l.host, l.port, l.path])).toEqual([
      ["tcp", "127.0.0.1", 0, "/"],
      ["tcp", "0.0.0.0", 1884, "/"],
      ["ssl", "h", 8883, "/"],
      ["ssl", "h", 8884, "/"],
      ["ssl", "::1", 8885, "/"],
      ["ws", "0.0.0.0", 8080, "/mqtt"],
      ["wss", "h", 8443, "/"],
    ]);
    expect(config.certificate).toEqual({
      cert: "/srv/edge/var/db/openedge/localhub-conf/tls/server.pem",
      key: "/abs/server.key",
      ca: "/srv/edge/var/db/openedge/ca.pem",
    });
  });

  test("listener errors name the list item", () => {
    expect(errors("listen: [udp://h:1, tcp://h, tcp://h:70000, ssl://h:1, tcp://h:1/x, 5]")).toEqual([
      "listen[0]: scheme must be one of tcp, mqtt, ssl, tls, mqtts, ws, wss",
      "listen[1]: must name a port (0 picks a free one)",
      "listen[2]: port must be between 0 and 65535",
      "listen[4]: tcp listeners take no path",
      "listen[5]: must be a URL string",
      "listen[3]: ssl listeners need certificate.cert and certificate.key",
    ]);
    expect(errors("listen: [tcp://h:1, mqtt://h:1]")).toEqual(["listen[1]: uses the address of listen[0]"]);
  });

  test("principal errors name the path", () => {
    expect(
      errors(`principals:
  - username: a
    password: x
    permissions:
      - action: pub
        permit: ["a/#"]
  - username: b
    permissions:
      - action: publish
        permit: ["a/#/b", "x+"]
      - permit: []
  - username: a
    password: y
    cn: z
`),
    ).toEqual([
      "principals[1].permissions[0].action: must be one of pub, sub",
      "principals[1].permissions[0].permit[0]: '#' must be a whole level and the last one",
      "principals[1].permissions[0].permit[1]: '+' must be a whole level",
      "principals[1].permissions[1].action: is required",
      "principals[2].username: duplicates principals[0].username",
      "principals[2].cn: only certificate principals (without password) are bound to a certificate CN",
    ]);
  });

  test("certificate principals keep their CN; hashes are kept as written", () => {
    const { config } = hub(`principals:
  - username: dev1
    cn: device-1
    permissions: [{action: pub, permit: ["d/1/#"]}]
  - username: u
    password: "$argon2id$v=19$m=65536,t=2,p=1$abc$def"
`);
    expect(config.principals).toEqual([
      { username: "dev1", cn: "device-1", permissions: [{ action: "pub", permit: ["d/1/#"] }] },
      { username: "u", password: "$argon2id$v=19$m=65536,t=2,p=1$abc$def", permissions: [] },
    ]);
  });

  test("message keys: length, OpenEdge's egress settings mapped, the rest accepted with warnings", () => {
    const { config, warnings } = hub(`message:
  length: {max: 4m}
  ingress:
    qos0: {buffer: {size: 100}}
    qos1: {buffer: {size: 100}, batch: {max: 10}, cleanup: {retention: 1h, interval: 1m}}
  egress:
    qos0: {buffer: {size: 500}}
    qos1: {buffer: {size: 20}, batch: {max: 10}, retry: {interval: 5s}}
  offset: {buffer: {size: 1}}
`);
    expect(config.limits).toMatchObject({
      maxMessageBytes: 4 * 1024 * 1024,
      retryIntervalMs: 5000,
      maxInflight: 20,
      maxQueued: 500,
      sessionExpiryMs: 3_600_000,
    });
    expect(warnings.length).toBe(6);
    expect(warnings[0]).toStartWith(
      "message.ingress.qos0.buffer.size: accepted for OpenEdge compatibility and ignored",
    );
    expect(warnings).toContain(
      "message.offset: accepted for OpenEdge compatibility and ignored: delivery offsets live in the session store",
    );
  });

  test("message.length.max is capped at 256m", () => {
    expect(errors("message: {length: {max: 300m}}")).toEqual(["message.length.max: must be at most 256m"]);
    expect(hub("message: {length: {max: 256m}}").config.limits.maxMessageBytes).toBe(268_435_455);
  });

  test("compat: openedge gives OpenEdge's stricter topic and client id rules; explicit keys win", () => {
    const { limits } = hub("compat: openedge\ntopic: {levels: 10}").config;
    expect(limits.maxTopicLevels).toBe(10);
    expect(limits.maxTopicBytes).toBe(255);
    expect(limits.maxClientIdBytes).toBe(128);
    expect(limits.clientIdPattern?.source).toBe("^[0-9A-Za-z_-]{0,128}$");
    expect(hub("").config.limits.clientIdPattern).toBeUndefined();
  });

  test("our limit keys", () => {
    const { limits } = hub(`max: {connections: 10, inflight: 5, queued: 50}
clientid: {length: 23, pattern: "^[a-z]+$"}
topic: {levels: 4, length: 100}
session: {expiry: 2h}
message: {egress: {qos1: {buffer: {size: 99}}}}
`).config;
    expect(limits).toMatchObject({
      maxConnections: 10,
      maxInflight: 5,
      maxQueued: 50,
      maxClientIdBytes: 23,
      maxTopicLevels: 4,
      maxTopicBytes: 100,
      sessionExpiryMs: 7_200_000,
    });
    expect(limits.clientIdPattern?.test("abc")).toBe(true);
    expect(errors('clientid: {pattern: "("}\nmax: {inflight: 0}')).toEqual([
      "clientid.pattern: must be a valid regular expression",
      "max.inflight: must be an integer between 1 and 65535",
    ]);
  });

  test("storage, shutdown, metrics; logger accepted with a warning; unknown keys warn", () => {
    const { config, warnings } = hub(`storage: {dir: /data/hub}
shutdown: {timeout: 30s}
metrics: {report: {interval: 10s}}
logger: {path: var/log/hub.log, level: debug}
anonymus: true
`);
    expect(config.storage.dir).toBe("/data/hub");
    expect(config.shutdown.timeoutMs).toBe(30_000);
    expect(config.metrics.report.intervalMs).toBe(10_000);
    expect(warnings).toEqual([
      "logger: accepted and ignored: the hub logs to the master's log",
      'anonymus: unknown key (did you mean "anonymous"?)',
    ]);
  });

  test("routes: errors name the subscription", () => {
    expect(
      errors(`subscriptions:
  - {source: {topic: a}, target: {topic: b/+}}
  - {source: {topic: "a/#/x"}, target: {topic: c}}
  - {source: {topic: x}, target: {topic: y, qos: 3}}
  - {source: {}, target: {topic: z}}
`),
    ).toEqual([
      "subscriptions[0].target.topic: must not contain wildcards (+ or #)",
      "subscriptions[1].source.topic: '#' must be a whole level and the last one",
      "subscriptions[2].target.qos: must be an integer between 0 and 2",
      "subscriptions[3].source.topic: is required",
    ]);
  });

  test("placeholders are filled from the environment", () => {
    const { config } = hub('principals: [{username: u, password: "{{.HUB_PW}}"}]', { HUB_PW: "s3cret" });
    expect(config.principals[0]?.password).toBe("s3cret");
  });
});
