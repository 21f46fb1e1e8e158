// GET /v1/services/{s}/logs: the last N lines of a service's instance logs (var/log/openedge/<service>/),
// and with follow, what is appended afterwards, until the client goes away.

import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type { LogsRequest } from "../api/index.ts";
import { SERVICE_NAME } from "../config/index.ts";
import { OpenEdgeError } from "../lib/errors.ts";

const TAIL_CHUNK = 64 * 1024;
const FOLLOW_POLL_MS = 250;

/** The last `n` lines of a file, reading backwards in chunks (never the whole file). */
export function tailLines(path: string, n: number): string {
  if (n === 0) return "";
  const fd = openSync(path, "r");
  try {
    const size = statSync(path).size;
    let pos = size;
    let text = "";
    while (pos > 0) {
      const len = Math.min(TAIL_CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, pos);
      text = buf.toString("utf8") + text;
      // n lines need n newlines, plus one more when the file ends with one
      if ((text.match(/\n/g)?.length ?? 0) > n) break;
    }
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines.slice(-n).join("\n") + (lines.length > 0 ? "\n" : "");
  } finally {
    closeSync(fd);
  }
}

export function instanceLogFiles(logDir: string, service: string, instance?: string): string[] {
  const dir = join(logDir, service);
  // a name that is no service name ("../../etc") must not lead outside the log dir
  if (!SERVICE_NAME.test(service) || !existsSync(dir)) {
    throw new OpenEdgeError("ERR_NOT_FOUND", `no logs for service "${service}"`, { details: { service } });
  }
  // by instance name, so `svc` comes before `svc.i1`
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".log"))
    .map((f) => f.slice(0, -4))
    .filter((name) => instance === undefined || name === instance)
    .sort()
    .map((name) => join(dir, `${name}.log`));
  if (files.length === 0) {
    throw new OpenEdgeError(
      "ERR_NOT_FOUND",
      `no logs for ${instance ? `instance "${instance}" of ` : ""}service "${service}"`,
    );
  }
  return files;
}

export function serviceLogs(
  logDir: string,
  service: string,
  request: LogsRequest,
): ReadableStream<Uint8Array> | string {
  const files = instanceLogFiles(logDir, service, request.instance);
  const label = files.length > 1;
  const prefix = (file: string, text: string) =>
    label ? text.replace(/^(?=.)/gm, `${file.slice(file.lastIndexOf("/") + 1, -4)} | `) : text;
  const head = files.map((f) => prefix(f, tailLines(f, request.tail))).join("");
  if (!request.follow) return head;
  const encoder = new TextEncoder();
  const offsets = new Map(files.map((f) => [f, statSync(f).size]));
  let timer: ReturnType<typeof setInterval> | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(head));
      timer = setInterval(() => {
        for (const file of files) {
          let size: number;
          try {
            size = statSync(file).size;
          } catch {
            continue;
          }
          const from = offsets.get(file) ?? 0;
          const start = size < from ? 0 : from; // rotated: start over on the new file
          if (size === start) continue;
          const fd = openSync(file, "r");
          const buf = Buffer.alloc(size - start);
          readSync(fd, buf, 0, buf.length, start);
          closeSync(fd);
          offsets.set(file, size);
          controller.enqueue(encoder.encode(prefix(file, buf.toString("utf8"))));
        }
      }, FOLLOW_POLL_MS);
    },
    cancel() {
      clearInterval(timer);
    },
  });
}
