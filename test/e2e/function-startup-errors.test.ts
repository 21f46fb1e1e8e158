// A function whose runtime cannot start (a syntax error in the handler's module): the runtime exits
// naming file and line in its instance log, the pool gives up on that start as soon as the instance
// ended (not at the start timeout), the rule publishes OpenEdge's error object, and inspect shows the
// pool's last start error.

import { afterAll, expect, test } from "bun:test";
import mqtt from "mqtt";
import { writeOnePythonFunction } from "./function-app.ts";
import { cleanupAll } from "./harness.ts";
import { MasterApi, until } from "./master-api.ts";
import { instanceLog, makeWorkDir, startReady, stopCleanly } from "./workdir.ts";

afterAll(cleanupAll);

function workDir(): string {
  const dir = makeWorkDir([]);
  writeOnePythonFunction(dir, {
    rule: {
      clientid: "r-bad",
      subscribe: { topic: "in/bad", qos: 0 },
      function: { name: "bad" },
      publish: { topic: "out/bad", qos: 0 },
      retry: { max: 1 },
    },
    fn: { name: "bad", instance: { min: 0, max: 1 } },
    handler: "broken.handler",
    code: { "broken.py": "def handler(event, context)\n    return event\n" },
  });
  return dir;
}

test("a handler module with a syntax error: the error object comes at once, the log names the line, inspect says why", async () => {
  const dir = workDir();
  const master = await startReady(dir);
  const ready = await master.waitFor("hub_ready");
  const port = (ready.listeners as { port: number }[])[0]?.port;
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  const got: string[] = [];
  client.on("message", (_topic, payload) => got.push(payload.toString()));
  await client.subscribeAsync("out/bad", { qos: 0 });

  const sent = performance.now();
  await client.publishAsync("in/bad", JSON.stringify({ n: 1 }), { qos: 0 });
  await until(
    "the error object",
    () => got,
    (g) => g.length === 1,
    { timeoutMs: 8_000 },
  );
  // the start timeout is 10 s: the failure was seen when the instance ended, not then
  expect(performance.now() - sent).toBeLessThan(8_000);
  const error = JSON.parse(got[0] ?? "null") as { errorMessage: string; functionMessage: object };
  expect(error.errorMessage).toContain('instance "fn-py.bad.0" ended before it listened');
  expect(error.functionMessage).toMatchObject({ FunctionName: "bad", Topic: "in/bad" });

  expect(instanceLog(dir, "fn-py", "fn-py.bad.0")).toMatch(/syntax error in .*broken\.py line 1/);
  type PoolView = { lastStartError?: { instance: string; error: string } };
  const fm = (await new MasterApi(dir).inspect()).services.find((s) => s.name === "fm") as
    | { functions?: Record<string, PoolView> }
    | undefined;
  const pool = fm?.functions?.bad;
  expect(pool?.lastStartError).toMatchObject({ instance: "fn-py.bad.0" });
  expect(pool?.lastStartError?.error).toContain("ended before it listened");

  await client.endAsync();
  await stopCleanly(master, dir);
});
