// Compiles src/main.ts into one executable per target with `bun build --compile`, stamping the git
// revision, and prints each file's size. `--host` builds only the machine's own target (for tests).

import { statSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };

interface Target {
  bunTarget: string;
  outfile: string;
}

const TARGETS: Record<string, Target> = {
  x64: { bunTarget: "bun-linux-x64", outfile: "dist/openedge-linux-x64" },
  arm64: { bunTarget: "bun-linux-arm64", outfile: "dist/openedge-linux-arm64" },
};

const root = join(import.meta.dir, "..");

function gitRevision(): string {
  const r = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: root, stderr: "ignore" });
  const rev = r.exitCode === 0 ? r.stdout.toString().trim() : "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], {
    cwd: root,
    stderr: "ignore",
  });
  return dirty.exitCode === 0 && dirty.stdout.toString().trim() !== "" ? `${rev}-dirty` : rev;
}

async function compile(target: Target, revision: string): Promise<void> {
  const argv = [
    process.execPath,
    "build",
    "--compile",
    "--bytecode",
    "--minify-syntax",
    "--minify-whitespace",
    "--sourcemap=none",
    `--target=${target.bunTarget}`,
    "--define",
    `OPENEDGE_REVISION=${JSON.stringify(revision)}`,
    // msgpackr would probe for its native addon (detect-libc reading ldd, node-gyp-build searching
    // prebuilds: ~5-10 ms of every start), which the executable never embeds: use its JavaScript
    "--define",
    'process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED="true"',
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    "src/main.ts",
    // a worker thread's entry must be one of the executable's own (new Worker finds it by this path)
    "src/hub/wal-checkpoint-worker.ts",
    "--outfile",
    target.outfile,
  ];
  const proc = Bun.spawn(argv, { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) {
    process.stderr.write(out + err);
    throw new Error(`bun build failed for ${target.bunTarget} (exit ${code})`);
  }
  const size = statSync(join(root, target.outfile)).size;
  console.log(`${target.outfile}  ${(size / 1024 / 1024).toFixed(1)} MiB  (${size} bytes)`);
}

const hostOnly = process.argv.includes("--host");
const hostArch = process.arch === "arm64" ? "arm64" : "x64";
const chosen = hostOnly ? [hostArch] : Object.keys(TARGETS);
const revision = gitRevision();
console.log(`openedge ${pkg.version} (${revision})`);
for (const name of chosen) {
  const target = TARGETS[name];
  if (target) await compile(target, revision);
}
