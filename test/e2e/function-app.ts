// The application the function tests and the function bench run: a hub, the function manager, a
// Python runtime service and (optionally) a JavaScript one, each configured from its own volume.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

/** Where a named volume of these applications lives, relative to the work dir. */
export const volumePath = (name: string): string => `var/db/openedge/${name}`;

/** Writes `text` to `path` inside the volumes folder of the work dir `dir`. */
export function volumeWriter(dir: string): (path: string, text: string) => void {
  return (path, text) => {
    const file = join(dir, "var/db/openedge", path);
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, text);
  };
}

export interface FunctionAppOptions {
  /** Add the `fn-js` service (volumes `js-conf`, `js-code`). */
  js: boolean;
  /** Extra environment of the `fn-py` service. */
  pyEnv?: Record<string, string>;
}

/**
 * application.yml as an object: `hub` (conf in `hub-conf`), `fm` (`fm-conf`), `fn-py` (`py-conf`,
 * code in `py-code`) and, with `js`, `fn-js` (`js-conf`, `js-code`); runtimes have replica 0.
 */
export function functionApplication(options: FunctionAppOptions): object {
  const mount = (name: string, path: string) => ({ name, path, readonly: true });
  const runtime = (rt: "py" | "js", image: string, env?: Record<string, string>) => ({
    name: `fn-${rt}`,
    image,
    replica: 0,
    ...(env ? { env } : {}),
    mounts: [mount(`${rt}-conf`, "etc/openedge"), mount(`${rt}-code`, volumePath(`${rt}-code`))],
  });
  const volumes = [
    "hub-conf",
    "fm-conf",
    "py-conf",
    "py-code",
    ...(options.js ? ["js-conf", "js-code"] : []),
  ];
  return {
    version: "v1",
    services: [
      { name: "hub", image: "openedge-hub", mounts: [mount("hub-conf", "etc/openedge")] },
      { name: "fm", image: "openedge-function-manager", mounts: [mount("fm-conf", "etc/openedge")] },
      runtime("py", "openedge-function-python3", options.pyEnv),
      ...(options.js ? [runtime("js", "openedge-function-node")] : []),
    ],
    volumes: volumes.map((name) => ({ name, path: volumePath(name) })),
  };
}

export interface OnePythonFunction {
  /** The manager's one rule (its function is `fn.name`). */
  rule: object;
  /** The manager's `functions[0]` (service fn-py). */
  fn: { name: string } & Record<string, unknown>;
  /** `module.function` in the py-code volume. */
  handler: string;
  /** Files of the py-code volume. */
  code: Record<string, string>;
  pyEnv?: Record<string, string>;
}

/**
 * Writes into the work dir `dir` an application of a hub (tcp on a free port, anonymous), the manager
 * with one rule and a Python service with one function.
 */
export function writeOnePythonFunction(dir: string, app: OnePythonFunction): void {
  const write = volumeWriter(dir);
  write("hub-conf/service.yml", stringify({ listen: ["tcp://127.0.0.1:0"], anonymous: true }));
  write(
    "fm-conf/service.yml",
    stringify({ rules: [app.rule], functions: [{ service: "fn-py", ...app.fn }] }),
  );
  write(
    "py-conf/service.yml",
    stringify({ functions: [{ name: app.fn.name, handler: app.handler, codedir: volumePath("py-code") }] }),
  );
  for (const [file, text] of Object.entries(app.code)) write(`py-code/${file}`, text);
  writeFileSync(
    join(dir, "var/db/openedge/application.yml"),
    stringify(functionApplication({ js: false, ...(app.pyEnv ? { pyEnv: app.pyEnv } : {}) })),
  );
}
