// The BusContext boundary: what a module may do on the bus, whichever transport carries it (the
// in-process channel context, or the socket client context in a child process).

import type { Message } from "./model.ts";
import type { BusStats } from "./stats.ts";

export const DEFAULT_QUEUE_CAPACITY = 1024;
export const DEFAULT_SYNC_TIMEOUT_MS = 30_000;

export interface SendOptions {
  /** Reject with ERR_QUEUE_FULL instead of waiting for room. */
  failFast?: boolean;
}

export interface BusContext {
  /** Creates the module's queue (idempotent) and, if given, joins it to a group. */
  addModule(module: string, group?: string): void;
  /** Joins a module to one more group. */
  addModuleGroup(module: string, group: string): void;
  /** Removes the module: blocked senders and pending receivers are released with ERR_CLOSED. */
  cleanup(module: string): void;

  /** Enqueues `msg` for `module`, waiting for room unless `failFast`. Never drops. */
  send(module: string, msg: Message, options?: SendOptions): Promise<void>;
  /** The module's next message, waiting for one. */
  receive(module: string): Promise<Message>;
  /** The module's next message if one is already there (no promise, no waiting); throws for an unknown module. */
  tryReceive(module: string): Message | undefined;
  /** Sends and resolves with the response whose parentId is `msg.header.id`. */
  sendSync(module: string, msg: Message, timeoutMs?: number): Promise<Message>;
  /** Delivers a response to its waiting sendSync, or to its destination's queue if none waits. */
  sendResp(resp: Message): Promise<void>;
  /** Sends `msg` to every member of `group`. */
  sendToGroup(group: string, msg: Message, options?: SendOptions): Promise<void>;
  /** Sends to every member and resolves with one response per member, in member order. */
  sendToGroupSync(group: string, msg: Message, timeoutMs?: number): Promise<Message[]>;

  stats(): BusStats;
  /** Releases everything the context holds; later calls reject with ERR_CLOSED. */
  close(): Promise<void>;
}
