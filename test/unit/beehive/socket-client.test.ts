import { afterEach, expect, test } from "bun:test";
import { ChannelContext, SocketClientContext, SocketServer } from "../../../src/beehive/index.ts";
import { FakeClock } from "../../../src/lib/clock.ts";
import { memoryLog, msg, tempSocket, waitFor } from "./helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

test("reconnects with exponential backoff on the injected clock, then registers", async () => {
  const tmp = tempSocket();
  cleanups.push(tmp.remove);
  const clock = new FakeClock(0);
  const { log, events } = memoryLog();
  const client = new SocketClientContext({
    path: tmp.path,
    clock,
    log,
    backoff: { minMs: 100, maxMs: 800, factor: 2 },
  });
  cleanups.push(() => client.close());
  client.addModule("late", "g");
  const connected = client.connect();
  const scheduled = () => events("bus_reconnect_scheduled").map((r) => r.fields.delayMs);
  // nobody listens: every dial fails and the next one waits twice as long, up to the cap
  for (let attempt = 1; attempt <= 5; attempt++) {
    await waitFor(() => scheduled().length === attempt, `reconnect ${attempt} to be scheduled`);
    await clock.advance(scheduled()[attempt - 1] as number);
  }
  await waitFor(() => scheduled().length === 6, "reconnect 6");
  expect(scheduled()).toEqual([100, 200, 400, 800, 800, 800]);
  expect(client.connected).toBe(false);

  const ctx = new ChannelContext();
  const server = new SocketServer({ context: ctx, path: tmp.path });
  await server.listen();
  cleanups.push(
    () => server.close(),
    () => ctx.close(),
  );
  await clock.advance(800);
  await connected;
  expect(ctx.members("g")).toEqual(["late"]);
  await ctx.send("late", msg("x", "late", "welcome"));
  expect((await client.receive("late")).content).toBe("welcome");

  // a lost connection starts over from the shortest delay
  server.disconnectAll();
  await waitFor(() => scheduled().length === 7, "the reconnect after the drop");
  expect(scheduled()[6]).toBe(100);
  await clock.advance(100);
  await waitFor(() => client.connected, "the reconnection");
  expect(client.stats().connections).toBe(2);
});
