import { describe, expect, test } from "bun:test";
import {
  BUILTIN_IMAGES,
  builtinImage,
  imageBaseName,
  legacyBuiltinReplacement,
} from "../../../src/config/index.ts";

describe("built-in images", () => {
  test("every built-in name maps to itself", () => {
    for (const name of BUILTIN_IMAGES) expect(builtinImage(name)).toBe(name);
  });

  test("registry prefix, tag and digest do not matter", () => {
    expect(builtinImage("hub.baidubce.com/openedge/openedge-hub:0.1.5")).toBe("openedge-hub");
    expect(builtinImage("openedge-function-manager:latest")).toBe("openedge-function-manager");
    expect(builtinImage("localhost:5000/openedge/openedge-remote-mqtt")).toBe("openedge-remote-mqtt");
    expect(builtinImage(`registry.local/openedge-agent@sha256:${"0".repeat(64)}`)).toBe("openedge-agent");
    expect(builtinImage("openedge-twin:0.2.0")).toBe("openedge-twin");
    expect(builtinImage("openedge/openedge-function-node")).toBe("openedge-function-node");
    expect(builtinImage("openedge-function-python3:3.9")).toBe("openedge-function-python3");
  });

  test("anything else is a user image", () => {
    for (const image of [
      "eclipse-mosquitto:2",
      "openedge-hub-extra",
      "my-openedge-hub",
      "openedge-function-python27",
      "openedge-function-sql",
      "openedge-timer",
      "",
    ]) {
      expect(builtinImage(image)).toBeNull();
    }
  });

  test("OpenEdge runtimes we do not ship name their replacement", () => {
    expect(legacyBuiltinReplacement("openedge-function-python27:0.1.4")).toBe("openedge-function-python3");
    expect(legacyBuiltinReplacement("hub.baidubce.com/openedge/openedge-function-python36")).toBe(
      "openedge-function-python3",
    );
    expect(legacyBuiltinReplacement("openedge-function-node85")).toBe("openedge-function-node");
    expect(legacyBuiltinReplacement("openedge-hub")).toBeNull();
  });

  test("imageBaseName", () => {
    expect(imageBaseName("a.b:5000/x/y/z:1.0")).toBe("z");
    expect(imageBaseName("z")).toBe("z");
  });
});
