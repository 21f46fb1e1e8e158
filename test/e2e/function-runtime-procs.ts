// Runtime instances for e2e: an instance dir (etc/openedge/service.yml plus a code dir copied from
// test/fixtures/function) and the compiled executable run in it as `openedge module <runtime>`.

import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RuntimeClient } from "../../src/function/index.ts";
import { binPath, onCleanup, tempDir } from "./harness.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/function");

export interface RuntimeProc {
  dir: string;
  socket: string;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  stderr(): string;
  exited: Promise<number>;
  connect(): Promise<RuntimeClient>;
}

/** An instance dir whose service.yml lists `functions`, with `fixture` (node|python) copied to code/. */
export function instanceDir(fixture: "node" | "python", serviceYml: string): string {
  const dir = tempDir("oe-fn-");
  mkdirSync(join(dir, "etc/openedge"), { recursive: true });
  writeFileSync(join(dir, "etc/openedge/service.yml"), serviceYml);
  cpSync(join(FIXTURES, fixture), join(dir, "code"), { recursive: true });
  return dir;
}

export function startRuntime(
  runtime: "node" | "python3",
  dir: string,
  env: Record<string, string> = {},
): RuntimeProc {
  const socket = join(dir, "rt.sock");
  const proc = Bun.spawn([binPath(), "module", `openedge-function-${runtime}`, "-w", dir], {
    cwd: dir,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, OPENEDGE_SERVICE_INSTANCE_ADDRESS: `unix://${socket}`, ...env },
  });
  onCleanup(() => {
    if (proc.exitCode === null) proc.kill(9);
  });
  let err = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) err += decoder.decode(chunk, { stream: true });
  })();
  void new Response(proc.stdout).text();
  return {
    dir,
    socket,
    proc,
    stderr: () => err,
    exited: proc.exited,
    connect: () => RuntimeClient.connect(socket, { deadlineMs: 10_000 }),
  };
}
