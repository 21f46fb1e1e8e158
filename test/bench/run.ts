// `npm run bench`: runs every test/bench/*.bench.ts in turn (each prints its own table of figures and
// ratios against a reference measured in the same run). Pass names to run a subset: `npm run bench startup`.

import { basename, join } from "node:path";
import { Glob } from "bun";

const only = process.argv.slice(2);
const files = [...new Glob("*.bench.ts").scanSync(import.meta.dir)].sort();
let failed = 0;
for (const file of files) {
  const name = basename(file, ".bench.ts");
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n=== bench: ${name}`);
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, file)], {
    stdout: "inherit",
    stderr: "inherit",
  });
  if ((await proc.exited) !== 0) {
    failed++;
    console.log(`bench ${name} failed`);
  }
}
process.exit(failed === 0 ? 0 : 1);
