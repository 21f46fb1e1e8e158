import { describe, expect, test } from "bun:test";
import {
  buildMessage,
  errorResponseTo,
  isErrorResponse,
  isMessage,
  Operation,
  Resource,
  responseTo,
  withRoute,
} from "../../../src/beehive/index.ts";

describe("message model", () => {
  test("buildMessage fills a uuid v4 id, timestamp and route", () => {
    const m = buildMessage({
      source: "twin",
      destination: "meta",
      group: "meta",
      operation: Operation.update,
      resource: Resource.device,
      content: { a: 1 },
      timestamp: 42,
    });
    expect(m.header.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(m.header).toMatchObject({
      parentId: "",
      timestamp: 42,
      resourceVersion: "",
      sync: false,
      type: "",
    });
    expect(m.route).toEqual({
      source: "twin",
      destination: "meta",
      group: "meta",
      operation: "update",
      resource: "device",
    });
    expect(m.content).toEqual({ a: 1 });
    const other = buildMessage({ source: "a", operation: "query", resource: "node", content: null });
    expect(other.header.id).not.toBe(m.header.id);
    expect(Math.abs(other.header.timestamp - Date.now())).toBeLessThan(5000);
  });

  test("withRoute replaces route fields and keeps header and content", () => {
    const m = buildMessage({
      source: "a",
      destination: "b",
      operation: "insert",
      resource: "pod",
      content: 1,
    });
    const r = withRoute(m, { destination: "c", group: "g" });
    expect(r.route).toMatchObject({ source: "a", destination: "c", group: "g", operation: "insert" });
    expect(r.header).toBe(m.header);
    expect(m.route.destination).toBe("b");
  });

  test("responseTo links parentId, swaps source and destination, keeps sync", () => {
    const req = buildMessage({
      source: "hub",
      destination: "function",
      operation: "query",
      resource: "function",
      content: 1,
      sync: true,
    });
    const resp = responseTo(req, { ok: true });
    expect(resp.header.parentId).toBe(req.header.id);
    expect(resp.header.id).not.toBe(req.header.id);
    expect(resp.header.sync).toBe(true);
    expect(resp.route).toMatchObject({
      source: "function",
      destination: "hub",
      operation: "response",
      resource: "function",
    });
    expect(resp.content).toEqual({ ok: true });
  });

  test("errorResponseTo carries {code, message} under operation error", () => {
    const req = buildMessage({
      source: "a",
      destination: "b",
      operation: "query",
      resource: "twin",
      content: 1,
    });
    const err = errorResponseTo(req, "ERR_NOT_FOUND", "no such twin");
    expect(err.route.operation).toBe(Operation.error);
    expect(err.content).toEqual({ code: "ERR_NOT_FOUND", message: "no such twin" });
    expect(isErrorResponse(err)).toBe(true);
    expect(isErrorResponse(responseTo(req, 1))).toBe(false);
  });

  test("isMessage accepts built messages and rejects malformed ones", () => {
    const m = buildMessage({ source: "a", operation: "query", resource: "node", content: undefined });
    expect(isMessage(m)).toBe(true);
    expect(isMessage(JSON.parse(JSON.stringify(m)))).toBe(true);
    expect(isMessage(null)).toBe(false);
    expect(isMessage({ header: m.header })).toBe(false);
    expect(isMessage({ ...m, header: { ...m.header, id: 5 } })).toBe(false);
    expect(isMessage({ ...m, route: { ...m.route, source: undefined } })).toBe(false);
  });

  test("operation and resource constants", () => {
    expect(Object.values(Operation)).toEqual([
      "insert",
      "delete",
      "query",
      "update",
      "patch",
      "upload",
      "response",
      "error",
    ]);
    for (const r of [
      "node",
      "pod",
      "service",
      "device",
      "twin",
      "membership",
      "function",
      "app",
      "inspect",
      "message",
    ]) {
      expect(Object.values(Resource)).toContain(r as never);
    }
  });
});
