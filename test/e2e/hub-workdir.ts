// Work dirs for hub e2e runs: an application with one openedge-hub service (OpenEdge's mounts:
// config at etc/openedge, data at var/db/openedge/data), a given service.yml, and helpers to read the
// listeners' ports from the master's hub_listening lines and to drive mosquitto_pub/sub.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningMaster } from "./harness.ts";
import { tempDir } from "./harness.ts";

/** The `principals:` entry the hub e2e tests log in with (test / hahaha, every topic). */
export const TEST_PRINCIPAL_YML = `  - username: test
    password: hahaha
    permissions:
      - {action: pub, permit: ["#"]}
      - {action: sub, permit: ["#"]}
`;

/** `serviceFields`: more lines of the hub's application.yml entry (`isolation`, `restart`), indented. */
export function hubWorkDir(
  serviceYml: string,
  image = "hub.baidubce.com/openedge/openedge-hub:0.1.5",
  serviceFields = "",
): string {
  const wd = tempDir("oe-e2e-hub-");
  mkdirSync(join(wd, "etc/openedge"), { recursive: true });
  writeFileSync(join(wd, "etc/openedge/openedge.yml"), "grace: 2s\nlogger:\n  level: info\n");
  const conf = join(wd, "var/db/openedge/localhub-conf");
  mkdirSync(conf, { recursive: true });
  writeFileSync(join(conf, "service.yml"), serviceYml);
  writeFileSync(
    join(wd, "var/db/openedge/application.yml"),
    `version: v1
services:
  - name: localhub
    image: ${image}
${serviceFields}    mounts:
      - {name: localhub-conf, path: etc/openedge, readonly: true}
      - {name: localhub-data, path: var/db/openedge/data}
volumes:
  - {name: localhub-conf, path: var/db/openedge/localhub-conf}
  - {name: localhub-data, path: var/db/openedge/localhub-data}
`,
  );
  return wd;
}

/** The hub's config folder in a hubWorkDir (certificates may be copied there). */
export function hubConfDir(workDir: string): string {
  return join(workDir, "var/db/openedge/localhub-conf");
}

/** Ports by listener URL, once the master logged `count` hub_listening lines. */
export async function listenerPorts(
  master: RunningMaster,
  count: number,
  timeoutMs = 15_000,
): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = master.lines.filter((l) => l.msg === "hub_listening");
    if (lines.length >= count) return new Map(lines.map((l) => [String(l.listener), Number(l.port)]));
    if (Date.now() > deadline)
      throw new Error(`only ${lines.length} hub_listening lines:\n${master.raw.join("\n")}`);
    await Bun.sleep(20);
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a mosquitto client to completion. */
export async function mosquitto(tool: "mosquitto_pub" | "mosquitto_sub", args: string[]): Promise<CliResult> {
  const proc = Bun.spawn([tool, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

export interface RunningSub {
  /** Resolves once the hub acknowledged the subscription (mosquitto_sub -d prints SUBACK). */
  subscribed: Promise<void>;
  /** Message lines (`topic payload` with -v), debug lines left out. */
  messages: string[];
  done: Promise<CliResult>;
}

/**
 * mosquitto_sub with -d, so the test knows when it is subscribed without sleeping; stdbuf makes its
 * stdout line-buffered (into a pipe it would hold every line until exit).
 */
export function mosquittoSub(args: string[]): RunningSub {
  const proc = Bun.spawn(["stdbuf", "-oL", "mosquitto_sub", "-d", ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const messages: string[] = [];
  let onSubscribed: () => void = () => {};
  const subscribed = new Promise<void>((resolve) => {
    onSubscribed = resolve;
  });
  const read = async (): Promise<string> => {
    let all = "";
    let partial = "";
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      const text = decoder.decode(chunk, { stream: true });
      all += text;
      partial += text;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line.includes("received SUBACK")) onSubscribed();
        else if (!line.startsWith("Client ") && !line.startsWith("Subscribed (mid")) messages.push(line);
      }
    }
    return all;
  };
  const done = (async () => {
    const [stdout, stderr, code] = await Promise.all([read(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  })();
  return { subscribed, messages, done };
}
