// Built-in images: OpenEdge's module image names, which run inside this executable instead of being
// pulled. A registry prefix and a tag or digest do not matter: `hub.baidubce.com/openedge/openedge-hub:0.1.5`.

export const BUILTIN_IMAGES = [
  "openedge-hub",
  "openedge-function-manager",
  "openedge-remote-mqtt",
  "openedge-agent",
  "openedge-twin",
  "openedge-function-node",
  "openedge-function-python3",
] as const;

export type BuiltinName = (typeof BUILTIN_IMAGES)[number];

/** OpenEdge 0.1.x runtime images we do not ship, with the built-in that takes their place. */
const LEGACY_RUNTIMES: Record<string, BuiltinName> = {
  "openedge-function-python27": "openedge-function-python3",
  "openedge-function-python36": "openedge-function-python3",
  "openedge-function-node85": "openedge-function-node",
};

/** The image's repository name without registry, path, tag or digest. */
export function imageBaseName(image: string): string {
  const noDigest = image.split("@")[0] ?? image;
  const last = noDigest.slice(noDigest.lastIndexOf("/") + 1);
  const colon = last.indexOf(":");
  return colon === -1 ? last : last.slice(0, colon);
}

export function builtinImage(image: string): BuiltinName | null {
  const base = imageBaseName(image.trim());
  return BUILTIN_IMAGES.find((b) => b === base) ?? null;
}

/** For an OpenEdge runtime image we do not ship, the built-in to use instead. */
export function legacyBuiltinReplacement(image: string): BuiltinName | null {
  return LEGACY_RUNTIMES[imageBaseName(image.trim())] ?? null;
}
