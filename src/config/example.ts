// The default openedge.yml and the example application, embedded in the executable at build time, and
// the work-dir tree `openedge init` writes from them.

import EXAMPLE_APPLICATION_TEXT from "../../etc/openedge/application.yml" with { type: "text" };
import DEFAULT_OPENEDGE_TEXT from "../../etc/openedge/openedge.yml" with { type: "text" };
import FUNCTION_MANAGER_SERVICE from "../../etc/openedge/volumes/function-manager-conf/service.yml" with {
  type: "text",
};
import SAYHI_CODE from "../../etc/openedge/volumes/function-sayhi-code/index.py" with { type: "text" };
import SAYHI_SERVICE from "../../etc/openedge/volumes/function-sayhi-conf/service.yml" with { type: "text" };
import SAYJS_CODE from "../../etc/openedge/volumes/function-sayjs-code/index.js" with { type: "text" };
import SAYJS_SERVICE from "../../etc/openedge/volumes/function-sayjs-conf/service.yml" with { type: "text" };
import LOCALHUB_SERVICE from "../../etc/openedge/volumes/localhub-conf/service.yml" with { type: "text" };

/** etc/openedge/openedge.yml: every field at its default, each with a comment. */
export const DEFAULT_OPENEDGE_YML: string = DEFAULT_OPENEDGE_TEXT;
/** The example application: hub, function manager and two functions (Python 3 and JavaScript). */
export const EXAMPLE_APPLICATION_YML: string = EXAMPLE_APPLICATION_TEXT;

export interface ExampleFile {
  /** Relative to the work dir. */
  path: string;
  content: string;
  /** File mode; 0o644 when absent. */
  mode?: number;
}

/** Where the master reads its files, relative to the work dir. */
export const OPENEDGE_YML_PATH = "etc/openedge/openedge.yml";
export const APPLICATION_YML_PATH = "var/db/openedge/application.yml";

/** Every file of a fresh example work dir, in the order to write them (directories implied). */
export function exampleWorkDir(): ExampleFile[] {
  const volumes = "var/db/openedge";
  return [
    { path: OPENEDGE_YML_PATH, content: DEFAULT_OPENEDGE_YML },
    { path: APPLICATION_YML_PATH, content: EXAMPLE_APPLICATION_YML },
    // these two hold the demo hub password: readable by the owner only
    { path: `${volumes}/localhub-conf/service.yml`, content: LOCALHUB_SERVICE, mode: 0o600 },
    { path: `${volumes}/function-manager-conf/service.yml`, content: FUNCTION_MANAGER_SERVICE, mode: 0o600 },
    { path: `${volumes}/function-sayhi-conf/service.yml`, content: SAYHI_SERVICE },
    { path: `${volumes}/function-sayhi-code/index.py`, content: SAYHI_CODE },
    { path: `${volumes}/function-sayjs-conf/service.yml`, content: SAYJS_SERVICE },
    { path: `${volumes}/function-sayjs-code/index.js`, content: SAYJS_CODE },
  ];
}
