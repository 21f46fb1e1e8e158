// The OPENEDGE_* environment every instance gets (OpenEdge's names); these win over the service's own
// env and the host's. Dynamic instances add the keys of their start request.

export interface SystemEnvInput {
  hostOs: string;
  hostId: string;
  mode: "native" | "docker";
  service: string;
  instance: string;
  token: string;
  /** Keys of a dynamic start request, such as OPENEDGE_SERVICE_INSTANCE_ADDRESS. */
  dynamic?: Record<string, string>;
}

export const MASTER_API_VERSION = "v1";

export function systemEnv(input: SystemEnvInput): Record<string, string> {
  return {
    ...input.dynamic,
    OPENEDGE_HOST_OS: input.hostOs,
    OPENEDGE_HOST_ID: input.hostId,
    // relative to the instance dir, where var/run/openedge.sock links to the API socket
    OPENEDGE_MASTER_API:
      input.mode === "native" ? "unix://var/run/openedge.sock" : "unix:///var/run/openedge.sock",
    OPENEDGE_MASTER_API_VERSION: MASTER_API_VERSION,
    OPENEDGE_RUNNING_MODE: input.mode,
    OPENEDGE_SERVICE_NAME: input.service,
    OPENEDGE_SERVICE_TOKEN: input.token,
    OPENEDGE_SERVICE_INSTANCE_NAME: input.instance,
  };
}
