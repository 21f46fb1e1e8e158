// The server's side of the RFC 6455 opening handshake: the accept key of §4.2.2, MQTT subprotocol
// choice ([MQTT-6.0.0-3]), and each malformed or foreign request answered with the status that says why.

import { describe, expect, test } from "bun:test";
import {
  acceptKey,
  answerUpgrade,
  headEnd,
  MAX_HEAD_BYTES,
  type Refusal,
  resumeFrom,
  type UpgradeAnswer,
} from "../../../src/hub/listeners/ws-handshake.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** A valid upgrade request for /mqtt, with headers replaced (null drops one) or added. */
function request(
  overrides: Record<string, string | null> = {},
  requestLine = "GET /mqtt HTTP/1.1",
): Uint8Array {
  const headers: Record<string, string | null> = {
    Host: "127.0.0.1:8080",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": KEY,
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Protocol": "mqtt",
    ...overrides,
  };
  const lines = Object.entries(headers)
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([name, value]) => `${name}: ${value}`);
  return new TextEncoder().encode(`${[requestLine, ...lines].join("\r\n")}\r\n\r\n`);
}

function answer(head: Uint8Array): UpgradeAnswer {
  return answerUpgrade(head, { path: "/mqtt" });
}

function refused(head: Uint8Array): Refusal {
  const a = answer(head);
  if (a.ok) throw new Error("upgrade accepted");
  return a;
}

describe("accepting", () => {
  test("RFC 6455 §1.3's key gives its accept value", () => {
    expect(acceptKey(KEY)).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  test("101 with Upgrade, Connection, the accept key and the chosen subprotocol", () => {
    const a = answer(request());
    expect(a).toEqual({
      ok: true,
      protocol: "mqtt",
      response:
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
    });
  });

  test("the client's first subprotocol we speak wins; mqttv3.1 counts; none offered, none answered", () => {
    const pick = (offer: string) => {
      const a = answer(request({ "Sec-WebSocket-Protocol": offer }));
      return a.ok ? a.protocol : `refused ${a.status}`;
    };
    expect(pick("chat, mqttv3.1, mqtt")).toBe("mqttv3.1");
    expect(pick("mqtt,mqttv3.1")).toBe("mqtt");
    const none = answer(request({ "Sec-WebSocket-Protocol": null }));
    expect(none.ok && none.protocol).toBeUndefined();
    expect(none.ok && none.response).not.toContain("Sec-WebSocket-Protocol");
  });

  test("header names and Upgrade/Connection tokens are case-insensitive; Connection may list more", () => {
    const a = answer(
      request({ Upgrade: null, Connection: null, upgrade: "WebSocket", CONNECTION: "keep-alive, Upgrade" }),
    );
    expect(a.ok).toBe(true);
  });

  test("a repeated protocol header is one list; a query string does not change the path", () => {
    const text = new TextDecoder().decode(request({}, "GET /mqtt?client=1 HTTP/1.1"));
    const head = new TextEncoder().encode(
      text.replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: mqttv3.1\r\n\r\n"),
    );
    const a = answer(head);
    expect(a.ok && a.protocol).toBe("mqtt");
  });
});

describe("refusing", () => {
  test("another path: 404, whatever the method", () => {
    expect(refused(request({}, "GET /other HTTP/1.1")).status).toBe(404);
    expect(refused(request({}, "POST /other HTTP/1.1")).status).toBe(404);
  });

  test("not a GET: 405 with Allow", () => {
    const r = refused(request({}, "POST /mqtt HTTP/1.1"));
    expect(r.status).toBe(405);
    expect(r.response).toContain("\r\nAllow: GET\r\n");
  });

  test("a plain GET without upgrade headers: 426 naming websocket", () => {
    const r = refused(request({ Upgrade: null, Connection: null }));
    expect(r.status).toBe(426);
    expect(r.response.startsWith("HTTP/1.1 426 Upgrade Required\r\n")).toBe(true);
    expect(r.response).toContain("\r\nUpgrade: websocket\r\n");
  });

  test("another WebSocket version: 426 with the one we speak (§4.4)", () => {
    const r = refused(request({ "Sec-WebSocket-Version": "8" }));
    expect(r.status).toBe(426);
    expect(r.response).toContain("\r\nSec-WebSocket-Version: 13\r\n");
  });

  test("subprotocols offered, none of them MQTT: 400", () => {
    expect(refused(request({ "Sec-WebSocket-Protocol": "chat, superchat" }))).toMatchObject({
      status: 400,
      reason: "unsupported websocket subprotocol",
    });
  });

  test("a missing or malformed key: 400", () => {
    expect(refused(request({ "Sec-WebSocket-Key": null })).reason).toBe("missing Sec-WebSocket-Key");
    for (const key of [
      "short==",
      "dGhlIHNhbXBsZSBub25jZQ",
      "dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ==",
    ])
      expect(refused(request({ "Sec-WebSocket-Key": key })).reason).toBe(
        "Sec-WebSocket-Key is not 16 bytes in base64",
      );
  });

  test("half an upgrade (Upgrade without Connection, or the reverse), no Host, HTTP/1.0: 400", () => {
    expect(refused(request({ Connection: "keep-alive" })).reason).toBe("Connection header without upgrade");
    expect(refused(request({ Upgrade: "h2c" })).reason).toBe("Upgrade header without websocket");
    expect(refused(request({ Host: null })).reason).toBe("missing Host header");
    expect(refused(request({}, "GET /mqtt HTTP/1.0")).reason).toBe("websocket upgrade needs HTTP/1.1");
  });

  test("garbage: a malformed request line or header line is 400", () => {
    expect(refused(new TextEncoder().encode("\x16\x03\x01 hello\r\n\r\n")).reason).toBe(
      "malformed request line",
    );
    const folded = new TextDecoder()
      .decode(request())
      .replace("Upgrade: websocket", "Upgrade:\r\n websocket");
    expect(refused(new TextEncoder().encode(folded)).reason).toBe("malformed header line");
  });

  test("a head over 8 KiB: 431", () => {
    const big = request({ "X-Padding": "a".repeat(MAX_HEAD_BYTES) });
    expect(refused(big).status).toBe(431);
  });

  test("a refusal is a complete HTTP response that closes the connection", () => {
    const r = refused(request({}, "GET /nope HTTP/1.1"));
    expect(r.response).toBe(
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\n" +
        "Connection: close\r\n\r\nnot found\n",
    );
  });
});

describe("finding the end of the head", () => {
  test("just past the blank line; -1 until it has arrived", () => {
    const text = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    // a frame's first bytes right behind the head
    const head = Uint8Array.from([...text, 0x82, 0x80]);
    expect(headEnd(head)).toBe(head.length - 2);
    expect(headEnd(head.subarray(0, head.length - 3))).toBe(-1);
  });

  test("a blank line split across reads is found when searching resumes", () => {
    const first = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r");
    const whole = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(headEnd(first)).toBe(-1);
    expect(headEnd(whole, resumeFrom(first.length))).toBe(whole.length);
  });
});
