// The application the function tests and the function bench run: a hub, the function manager, a
// Python runtime service and (optionally) a JavaScript one, each configured from its own volume.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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
