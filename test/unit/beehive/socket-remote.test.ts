// Socket context against a real child process on a real unix socket (the remote-module fixture).
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ChannelContext, type Message, responseTo, SocketServer } from "../../../src/beehive/index.ts";
import { memoryLog, msg, tempSocket, waitFor } from "./helpers.ts";

const FIXTURE = join(import.meta.dir, "../../fixtures/beehive/remote-module.ts");

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function master() {
  const tmp = tempSocket();
  const { log, events } = memoryLog();
  const ctx = new ChannelContext({ log });
  ctx.addModule("local", "mixed");
  const server = new SocketServer({ context: ctx, path: tmp.path, log });
  await server.listen();
  cleanups.push(
    tmp.remove,
    () => ctx.close(),
    () => server.close(),
  );
  return { ctx, server, path: tmp.path, events };
}

/** Spawns the fixture and resolves once it printed its ready line. */
async function spawnRemote(
  path: string,
  codec: string,
  name = "remote",
  group = "mixed",
): Promise<Subprocess<"ignore", "pipe", "inherit">> {
  const proc = Bun.spawn([process.execPath, FIXTURE, path, codec, name, group], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  cleanups.push(() => {
    proc.kill(9);
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes('"ready"')) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`remote module exited before ready: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return proc;
}

/** Answers every message sent to `name` (a master-local module) with `answer(content)`. */
function answerLoop(ctx: ChannelContext, name: string, answer: (m: Message) => unknown): void {
  void (async () => {
    for (;;) {
      const m = await ctx.receive(name).catch(() => null);
      if (m === null) return;
      await ctx.sendResp(responseTo(m, answer(m)));
    }
  })();
}

const bytes = new Uint8Array(256).map((_, i) => i);

describe.each(["json", "msgpack"])("remote module over %s", (codec) => {
  test("sync round trip and async echo carry binary content both ways", async () => {
    const { ctx, path } = await master();
    await spawnRemote(path, codec);
    const content = { bin: bytes, buf: Buffer.from("héllo\u0000"), text: "t", n: [1, 2] };
    const resp = await ctx.sendSync("remote", msg("local", "remote", content), 5000);
    const back = resp.content as typeof content;
    expect(back.bin).toBeInstanceOf(Uint8Array);
    expect([...back.bin]).toEqual([...bytes]);
    expect(Buffer.from(back.buf).toString()).toBe("héllo\u0000");
    expect(back.n).toEqual([1, 2]);
    expect(resp.route).toMatchObject({ source: "remote", destination: "local", operation: "response" });

    const sent = msg("local", "remote", bytes.subarray(5, 9));
    await ctx.send("remote", sent);
    const echo = await ctx.receive("local");
    const body = echo.content as { echoOf: string; content: Uint8Array };
    expect(body.echoOf).toBe(sent.header.id);
    expect([...body.content]).toEqual([5, 6, 7, 8]);
  });

  test("the remote reaches master-local modules and groups, and sees typed errors", async () => {
    const { ctx, path } = await master();
    ctx.addModule("helper1", "helpers");
    ctx.addModule("helper2", "helpers");
    answerLoop(ctx, "helper1", (m) => ({ from: "helper1", got: m.content }));
    answerLoop(ctx, "helper2", () => ({ from: "helper2" }));
    await spawnRemote(path, codec);
    const asked = await ctx.sendSync(
      "remote",
      msg("local", "remote", { cmd: "ask", target: "helper1", content: bytes }),
      5000,
    );
    const answer = (asked.content as { answer: { from: string; got: Uint8Array } }).answer;
    expect(answer.from).toBe("helper1");
    expect([...answer.got]).toEqual([...bytes]);
    const group = await ctx.sendSync(
      "remote",
      msg("local", "remote", { cmd: "askGroup", group: "helpers", content: "q" }),
      5000,
    );
    expect((group.content as { answers: unknown[] }).answers).toEqual([
      { from: "helper1", got: "q" },
      { from: "helper2" },
    ]);
    const told = await ctx.sendSync(
      "remote",
      msg("local", "remote", { cmd: "tell", target: "nobody" }),
      5000,
    );
    expect(told.content).toEqual({ result: "ERR_UNKNOWN_MODULE" });
  });

  test("a master group sync spans local and remote members", async () => {
    const { ctx, path } = await master();
    answerLoop(ctx, "local", () => "from local");
    await spawnRemote(path, codec);
    const answers = await ctx.sendToGroupSync("mixed", msg("boss", "", "who is there"), 5000);
    expect(answers.map((a) => [a.route.source, a.content])).toEqual([
      ["local", "from local"],
      ["remote", "who is there"],
    ]);
    expect(ctx.members("mixed")).toEqual(["local", "remote"]);
  });
});

test("kill -9 of the remote: messages in flight and sent while away arrive exactly once at its successor", async () => {
  const { ctx, path, events } = await master();
  const stats = () => ctx.stats().modules.find((m) => m.name === "worker");
  const first = await spawnRemote(path, "msgpack", "worker", "workers");
  const sentIds: string[] = [];
  const send = async (n: number) => {
    const m = msg("local", "worker", n);
    sentIds.push(m.header.id);
    await ctx.send("worker", m);
  };
  for (let i = 0; i < 5; i++) await send(i);
  // the first process stops consuming: what follows is written to its socket and never acked
  expect((await ctx.sendSync("worker", msg("local", "worker", { cmd: "hold" }), 5000)).content).toEqual({
    held: true,
  });
  for (let i = 5; i < 25; i++) await send(i);
  await waitFor(() => stats()?.inflight === 20, "20 messages in flight to the held process");
  first.kill(9);
  await first.exited;
  await waitFor(() => stats()?.connected === false, "the master to see the disconnect");
  for (let i = 25; i < 55; i++) await send(i);
  expect(stats()).toMatchObject({ depth: 30, inflight: 20, connected: false });

  const second = await spawnRemote(path, "msgpack", "worker", "workers");
  // a sync round trip after all of them: deliveries are FIFO, so every echo was sent before this answer
  await ctx.sendSync("worker", msg("local", "worker", "barrier"), 5000);
  await waitFor(() => stats()?.inflight === 0, "all acks");
  const echoes: { echoOf: string; content: number; pid: number }[] = [];
  const queued = ctx.stats().modules.find((m) => m.name === "local")?.depth ?? 0;
  for (let i = 0; i < queued; i++)
    echoes.push((await ctx.receive("local")).content as (typeof echoes)[number]);
  expect(echoes.length).toBe(55);
  expect(echoes.map((e) => e.echoOf)).toEqual(sentIds);
  expect(echoes.map((e) => e.content)).toEqual(Array.from({ length: 55 }, (_, i) => i));
  expect(new Set(echoes.slice(5).map((e) => e.pid))).toEqual(new Set([second.pid]));
  expect(stats()).toMatchObject({ depth: 0, connected: true });
  const attached = events("bus_remote_module_attached");
  expect(attached.at(-1)?.fields).toMatchObject({ module: "worker", resent: 20, queued: 30 });
});
