// Startup figures of the compiled executable: exec → "master_ready" (median of several runs), peak RSS
// of an idle master, and executable sizes — each next to a bare compiled Bun program measured in the
// same run (the floor any Bun executable pays).

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
const RUNS = 7;
const IDLE_MS = 2000;

function ensureBuilt(): void {
  if (
    existsSync(join(root, "dist/openedge-linux-x64")) &&
    existsSync(join(root, "dist/openedge-linux-arm64"))
  )
    return;
  const r = Bun.spawnSync([process.execPath, "build/compile.ts"], {
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  });
  if (r.exitCode !== 0) throw new Error("build failed");
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function peakRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

/** Spawns argv, resolves when a stdout line contains `marker`; returns ms from spawn and the process. */
async function timeToLine(argv: string[], marker: string) {
  const t0 = performance.now();
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of proc.stdout) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes(marker)) break;
  }
  const ms = performance.now() - t0;
  if (!text.includes(marker)) throw new Error(`${argv.join(" ")} exited without printing ${marker}`);
  return { ms, proc };
}

async function main(): Promise<void> {
  ensureBuilt();
  const bin = join(root, process.arch === "arm64" ? "dist/openedge-linux-arm64" : "dist/openedge-linux-x64");
  const tmp = mkdtempSync(join(tmpdir(), "oe-bench-startup-"));
  try {
    // baseline: the smallest compiled Bun program that prints a line and stays up
    writeFileSync(join(tmp, "idle.ts"), 'console.log("ready"); setInterval(() => {}, 1 << 30);\n');
    const b = Bun.spawnSync(
      [process.execPath, "build", "--compile", join(tmp, "idle.ts"), "--outfile", join(tmp, "idle")],
      {
        stdout: "ignore",
        stderr: "inherit",
      },
    );
    if (b.exitCode !== 0) throw new Error("baseline build failed");

    const wd = join(tmp, "wd");
    Bun.spawnSync([bin, "init", wd], { stdout: "ignore" });

    const master: number[] = [];
    const bare: number[] = [];
    let masterRss = 0;
    let bareRss = 0;
    for (let i = 0; i < RUNS; i++) {
      const m = await timeToLine([bin, "start", "-w", wd], '"master_ready"');
      master.push(m.ms);
      const base = await timeToLine([join(tmp, "idle")], "ready");
      bare.push(base.ms);
      if (i === RUNS - 1) {
        await Bun.sleep(IDLE_MS);
        masterRss = peakRssKiB(m.proc.pid);
        bareRss = peakRssKiB(base.proc.pid);
      }
      m.proc.kill("SIGTERM");
      base.proc.kill("SIGKILL");
      await Promise.all([m.proc.exited, base.proc.exited]);
    }

    const mb = (kib: number) => (kib / 1024).toFixed(1);
    const size = (p: string) => (existsSync(p) ? statSync(p).size : Number.NaN);
    const rows: Array<[string, string, string, string]> = [
      ["figure", "openedge", "bare bun exe", "ratio"],
      [
        `exec → ready, median of ${RUNS} (ms)`,
        median(master).toFixed(1),
        median(bare).toFixed(1),
        (median(master) / median(bare)).toFixed(2),
      ],
      [
        `peak RSS idle ${IDLE_MS / 1000}s (MiB)`,
        mb(masterRss),
        mb(bareRss),
        (masterRss / bareRss).toFixed(2),
      ],
      [
        "size linux-x64 (MiB)",
        mb(size(join(root, "dist/openedge-linux-x64")) / 1024),
        mb(size(join(tmp, "idle")) / 1024),
        (size(join(root, "dist/openedge-linux-x64")) / size(join(tmp, "idle"))).toFixed(3),
      ],
      ["size linux-arm64 (MiB)", mb(size(join(root, "dist/openedge-linux-arm64")) / 1024), "-", "-"],
    ];
    for (const r of rows)
      console.log(`${r[0].padEnd(34)} ${r[1].padStart(10)} ${r[2].padStart(13)} ${r[3].padStart(7)}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
