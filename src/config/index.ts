// Public surface of config: openedge.yml and application.yml schemas, defaults, env placeholders,
// validation, built-in image names and the embedded example work dir.

export type { ApplicationConfig, VolumeConfig, VolumeMeta } from "./application-config.ts";
export { VOLUME_NAME } from "./application-config.ts";
export {
  BUILTIN_IMAGES,
  type BuiltinName,
  builtinImage,
  imageBaseName,
  legacyBuiltinReplacement,
} from "./builtin-images.ts";
export {
  APPLICATION_YML_PATH,
  DEFAULT_OPENEDGE_YML,
  EXAMPLE_APPLICATION_YML,
  type ExampleFile,
  exampleWorkDir,
  OPENEDGE_YML_PATH,
} from "./example.ts";
export { ConfigError, describeIssue, formatIssue, type Issue, Issues } from "./issues.ts";
export {
  type ConfigOptions,
  loadApplicationConfig,
  loadOpenEdgeConfig,
  type Parsed,
  parseApplicationConfig,
  parseConfigText,
  parseOpenEdgeConfig,
  readConfigFile,
} from "./load.ts";
export type {
  BusCodec,
  BusConfig,
  ConsoleMode,
  DockerConfig,
  EngineMode,
  LoggerConfig,
  OpenEdgeConfig,
  ServerConfig,
} from "./openedge-config.ts";
export { type Endpoint, insideWorkDir, parseAddress, resolveWorkPath } from "./paths.ts";
export type { DeviceMapping, PortMapping, PortProtocol, PortRange } from "./port-device.ts";
export { parseDeviceMapping, parsePortMapping } from "./port-device.ts";
export { MapReader, RULES, scalarText } from "./schema-helpers.ts";
export type {
  Isolation,
  MountConfig,
  ResourcesConfig,
  RestartConfig,
  RestartPolicy,
  ServiceConfig,
} from "./service-config.ts";
export { SERVICE_NAME } from "./service-config.ts";
export { type EnvMap, placeholderNames } from "./template.ts";
