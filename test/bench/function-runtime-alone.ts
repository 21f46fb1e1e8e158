// The runtime call alone, as OpenEdge 0.1.5's anchor figures were taken (its gRPC call to the Python
// runtime): the manager's own RuntimeClient calling runtime instances over their sockets, no hub and
// no MQTT. Instances are started the way the master starts them (python3 directly; the executable's
// `module function-node`), each in an instance-like dir with its service.yml.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { msgpackCodec } from "../../src/beehive/index.ts";
import { RuntimeClient } from "../../src/function/runtime-client.ts";
import { python3Command } from "../../src/function/runtime-python3.ts";
import { BusyPoller, DEFAULT_BUSY_POLL_MS } from "../../src/lib/busy-poll.ts";
import { systemClock } from "../../src/lib/clock.ts";
import { parseDuration } from "../../src/lib/units.ts";

export interface AloneCell {
  rate: number;
  p50: number;
  p99: number;
}

const HANDLERS = {
  py: ["handlers.py", "def echo(event, context):\n    return event\n"],
  js: ["handlers.js", "exports.echo = (event) => event;\n"],
} as const;

interface Started {
  client: RuntimeClient;
  proc: ReturnType<typeof Bun.spawn>;
}

async function startInstance(
  dir: string,
  rt: "py" | "js",
  bin: string,
  python: string,
  poller: BusyPoller,
  cpu?: number,
  busyPoll?: string,
): Promise<Started> {
  mkdirSync(join(dir, "etc/openedge"), { recursive: true });
  mkdirSync(join(dir, "code"), { recursive: true });
  const [file, code] = HANDLERS[rt];
  writeFileSync(join(dir, "code", file), code);
  writeFileSync(
    join(dir, "etc/openedge/service.yml"),
    `functions:\n  - name: echo\n    handler: handlers.echo\n    codedir: code\n${busyPoll === undefined ? "" : `busypoll: ${busyPoll}\n`}`,
  );
  const env = {
    ...process.env,
    OPENEDGE_SERVICE_INSTANCE_ADDRESS: "unix://fn.sock",
    OPENEDGE_PYTHON3: python,
    OPENEDGE_LOG_LEVEL: "warn",
  } as Record<string, string>;
  const command = rt === "py" ? python3Command(dir, env, dir).argv : [bin, "module", "function-node"];
  const argv = cpu === undefined ? command : ["taskset", "-c", String(cpu), ...command];
  const proc = Bun.spawn(argv, { cwd: dir, env, stdout: "ignore", stderr: "ignore" });
  const client = await RuntimeClient.connect(join(dir, "fn.sock"), {
    deadlineMs: 10_000,
    ...(rt === "js" ? { codec: msgpackCodec } : {}),
    busyPoll: poller,
  });
  return { client, proc };
}

/**
 * `window` callers spread over `instances` runtime instances (caller i uses instance i mod n), each
 * calling and awaiting in turn for `ms` after a warm-up. Returns calls/s and p50/p99 in µs.
 */
export async function measureRuntimeAlone(options: {
  rt: "py" | "js";
  instances: number;
  window: number;
  ms: number;
  dir: string;
  bin: string;
  python: string;
  /** Pin this process's main thread and the instances to this CPU (taskset). */
  cpu?: number;
  /** The instances' `busypoll`, and the caller's (the function manager's) too; else their defaults. */
  busyPoll?: string;
}): Promise<AloneCell> {
  const { rt, instances, window, ms, dir, bin, python, cpu, busyPoll } = options;
  const started: Started[] = [];
  let restoreAffinity: string | undefined;
  const poller = new BusyPoller(
    busyPoll === undefined ? DEFAULT_BUSY_POLL_MS : (parseDuration(busyPoll) ?? 0),
    systemClock,
  );
  try {
    if (cpu !== undefined) restoreAffinity = pinSelf(String(cpu));
    for (let i = 0; i < instances; i++)
      started.push(await startInstance(join(dir, `${rt}-${i}`), rt, bin, python, poller, cpu, busyPoll));
    const payload = new TextEncoder().encode('{"s":1,"pad":"0123456789abcdef"}');
    let n = 0;
    const call = (link: RuntimeClient) =>
      link.call(
        {
          id: n,
          qos: 1,
          topic: "in/bench",
          payload,
          timestamp: Date.now(),
          functionName: "echo",
          functionInvokeId: `i${n++}`,
        },
        5_000,
      );
    const latencies: number[] = [];
    let deadline = 0;
    const caller = async (i: number, record: boolean) => {
      const link = (started[i % started.length] as Started).client;
      while (performance.now() < deadline) {
        const t = performance.now();
        const outcome = await call(link);
        if (!outcome.ok) throw new Error(`call failed: ${outcome.errorMessage}`);
        if (record) latencies.push((performance.now() - t) * 1000);
      }
    };
    deadline = performance.now() + 300;
    await Promise.all(Array.from({ length: window }, (_, i) => caller(i, false)));
    const t0 = performance.now();
    deadline = t0 + ms;
    await Promise.all(Array.from({ length: window }, (_, i) => caller(i, true)));
    const elapsed = performance.now() - t0;
    latencies.sort((a, b) => a - b);
    const at = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? 0;
    return { rate: (latencies.length / elapsed) * 1000, p50: at(50), p99: at(99) };
  } finally {
    poller.stop();
    if (restoreAffinity !== undefined) pinSelf(restoreAffinity);
    for (const s of started) {
      s.client.close();
      s.proc.kill("SIGTERM");
      await s.proc.exited;
    }
  }
}

/** Whether `taskset` (util-linux) is here to pin processes with. */
export const canPin = Bun.which("taskset") !== null;

/** Sets the CPU list of this process's main thread (the JavaScript one); returns the previous list. */
function pinSelf(cpus: string): string {
  const before = Bun.spawnSync(["taskset", "-p", "-c", String(process.pid)], { stdout: "pipe" });
  const previous = /:\s*(\S+)\s*$/.exec(before.stdout.toString())?.[1] ?? "0-1023";
  const set = Bun.spawnSync(["taskset", "-p", "-c", cpus, String(process.pid)], { stdout: "ignore" });
  if (set.exitCode !== 0) throw new Error(`taskset -p -c ${cpus} failed`);
  return previous;
}
