// The engine contract, run against every implementation (the docker engine joins here).

import { engineContract } from "../fixtures/engine/contract-suite.ts";
import { nativeHarness } from "../fixtures/engine/harness.ts";

engineContract("native", () => nativeHarness());
