// The compiled master's beehive bus: a unix socket (0600) that a module in another process joins over
// the socket context; the module then shows in inspect and /metrics, and leaves when it disconnects.
import { afterAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { connectRemoteBus } from "../../src/beehive/index.ts";
import { silentLogger } from "../../src/log/index.ts";
import { cleanupAll, run, startMaster, tempDir } from "./harness.ts";
import { MasterApi } from "./master-api.ts";

afterAll(cleanupAll);

interface BusModuleView {
  name: string;
  remote: boolean;
  connected: boolean;
}

test("a remote module joins the master's bus and appears in inspect and metrics", async () => {
  const wd = tempDir();
  expect((await run(["init", wd])).code).toBe(0);
  const master = startMaster(["-w", wd]);
  await master.waitFor("master_ready");
  const socket = join(wd, "var/run/openedge.bus");
  expect(statSync(socket).mode & 0o777).toBe(0o600);

  const remote = await connectRemoteBus({
    path: socket,
    codec: "msgpack",
    log: silentLogger,
    modules: [{ name: "probe-mod", group: "probes" }],
  });
  try {
    const api = new MasterApi(wd);
    const inspect = (await api.call("GET", "/v1/system/inspect")).json as {
      bus: { modules: BusModuleView[] };
    };
    expect(inspect.bus.modules.find((m) => m.name === "probe-mod")).toMatchObject({
      remote: true,
      connected: true,
    });
    const metrics = (await api.call("GET", "/metrics")).text;
    expect(metrics).toContain('openedge_bus_connected{module="probe-mod"} 1');
  } finally {
    await remote.close();
  }
  expect(await master.stop()).toBe(0);
});
