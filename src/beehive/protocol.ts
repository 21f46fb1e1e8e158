// Frame bodies of the socket context (short keys: they are on every frame) and their shape checks.
// Client requests carry `r` and get exactly one `ok`/`err` reply; `msg` deliveries are acked by seq.

import { isMessage, type Message } from "./model.ts";

export interface ModuleRegistration {
  /** module name */
  n: string;
  /** groups */
  g: string[];
  /** epoch of the master-side delivery sequence the client last saw ("" when none) */
  e: string;
  /** highest delivery seq the module consumed in that epoch */
  a: number;
}

export type ClientFrame =
  | { k: "hello"; mods: ModuleRegistration[] }
  | { k: "reg"; r: number; mod: ModuleRegistration }
  | { k: "join"; r: number; n: string; g: string }
  | { k: "unreg"; r: number; n: string }
  | { k: "send"; r: number; d: string; f: boolean; m: Message }
  | { k: "group"; r: number; d: string; f: boolean; m: Message }
  | { k: "sync"; r: number; d: string; t: number; m: Message }
  | { k: "gsync"; r: number; d: string; t: number; m: Message }
  /** r 0: no reply wanted (an answer to a sync request) */
  | { k: "resp"; r: number; m: Message }
  | { k: "ack"; n: string; s: number };

export interface WelcomeModule {
  n: string;
  e: string;
}

export type ServerFrame =
  | { k: "welcome"; mods: WelcomeModule[] }
  | { k: "ok"; r: number; v?: unknown }
  | { k: "err"; r: number; c: string; e: string; d?: Record<string, unknown> }
  | { k: "msg"; n: string; s: number; m: Message };

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isStr = (v: unknown): v is string => typeof v === "string";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function isRegistration(v: unknown): v is ModuleRegistration {
  return (
    isRec(v) && isStr(v.n) && v.n !== "" && Array.isArray(v.g) && v.g.every(isStr) && isStr(v.e) && isNum(v.a)
  );
}

/** The client frame `v` is, or null when it is not one. */
export function parseClientFrame(v: unknown): ClientFrame | null {
  if (!isRec(v) || !isStr(v.k)) return null;
  switch (v.k) {
    case "send":
    case "group":
      return isNum(v.r) && isStr(v.d) && typeof v.f === "boolean" && isMessage(v.m)
        ? (v as ClientFrame)
        : null;
    case "sync":
    case "gsync":
      return isNum(v.r) && isStr(v.d) && isNum(v.t) && isMessage(v.m) ? (v as ClientFrame) : null;
    case "resp":
      return isNum(v.r) && isMessage(v.m) ? (v as ClientFrame) : null;
    case "ack":
      return isStr(v.n) && isNum(v.s) ? (v as ClientFrame) : null;
    case "hello":
      return Array.isArray(v.mods) && v.mods.every(isRegistration) ? (v as ClientFrame) : null;
    case "reg":
      return isNum(v.r) && isRegistration(v.mod) ? (v as ClientFrame) : null;
    case "join":
      return isNum(v.r) && isStr(v.n) && isStr(v.g) ? (v as ClientFrame) : null;
    case "unreg":
      return isNum(v.r) && isStr(v.n) ? (v as ClientFrame) : null;
    default:
      return null;
  }
}

/** The server frame `v` is, or null when it is not one. */
export function parseServerFrame(v: unknown): ServerFrame | null {
  if (!isRec(v) || !isStr(v.k)) return null;
  switch (v.k) {
    case "msg":
      return isStr(v.n) && isNum(v.s) && isMessage(v.m) ? (v as ServerFrame) : null;
    case "ok":
      return isNum(v.r) ? (v as ServerFrame) : null;
    case "err":
      return isNum(v.r) && isStr(v.c) && isStr(v.e) ? (v as ServerFrame) : null;
    case "welcome":
      return Array.isArray(v.mods) && v.mods.every((m) => isRec(m) && isStr(m.n) && isStr(m.e))
        ? (v as ServerFrame)
        : null;
    default:
      return null;
  }
}
