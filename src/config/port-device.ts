// Docker-style port and device mappings of a service, parsed once here so both engines read the same
// structure: `1883`, `1883:1883`, `127.0.0.1:8080:80/tcp`, `[::1]:53:53/udp`, `/dev/ttyUSB0:/dev/ttyS0:rw`.

export type PortProtocol = "tcp" | "udp" | "sctp";

export interface PortRange {
  start: number;
  end: number;
}

export interface PortMapping {
  /** As written. */
  spec: string;
  /** Host address to bind; absent binds every interface. */
  hostIp?: string;
  /** Absent publishes the container port on a port the host picks. */
  hostPort?: PortRange;
  containerPort: PortRange;
  protocol: PortProtocol;
}

export interface DeviceMapping {
  /** As written. */
  spec: string;
  host: string;
  container: string;
  /** cgroup device permissions, a combination of r, w and m. */
  permissions: string;
}

export const PORT_RULE = "must be a port mapping such as 1883, 1883:1883 or 127.0.0.1:8080:80/tcp";
export const DEVICE_RULE = "must be a device such as /dev/video0 or /dev/ttyUSB0:/dev/ttyUSB0:rwm";

/** Parses a port mapping; null when it is not one. */
export function parsePortMapping(spec: string): PortMapping | null {
  const m = /^(.*?)(?:\/(tcp|udp|sctp))?$/.exec(spec.trim());
  const body = m?.[1] ?? "";
  const protocol = (m?.[2] ?? "tcp") as PortProtocol;
  let hostIp: string | undefined;
  let rest = body;
  if (body.startsWith("[")) {
    const close = body.indexOf("]:");
    if (close === -1) return null;
    hostIp = body.slice(1, close);
    if (!/^[0-9a-fA-F:.]+$/.test(hostIp) || !hostIp.includes(":")) return null;
    rest = body.slice(close + 2);
    if (!rest.includes(":")) return null;
  }
  const parts = rest.split(":");
  if (parts.length === 3 && hostIp === undefined) {
    hostIp = parts.shift();
    if (hostIp === undefined || !isIPv4(hostIp)) return null;
  }
  if (parts.length > 2 || parts.length === 0) return null;
  const containerPort = parseRange(parts[parts.length - 1] ?? "");
  if (containerPort === null) return null;
  const mapping: PortMapping = { spec, containerPort, protocol };
  if (hostIp !== undefined) mapping.hostIp = hostIp;
  if (parts.length === 2 && parts[0] !== "") {
    const hostPort = parseRange(parts[0] ?? "");
    if (hostPort === null) return null;
    if (hostPort.end - hostPort.start !== containerPort.end - containerPort.start) return null;
    mapping.hostPort = hostPort;
  } else if (parts.length === 2 && hostIp === undefined) {
    return null; // `:80` names neither an address nor a host port
  }
  return mapping;
}

function parseRange(text: string): PortRange | null {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) return null;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || end > 65535 || end < start) return null;
  return { start, end };
}

function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** Parses a device mapping; null when it is not one. */
export function parseDeviceMapping(spec: string): DeviceMapping | null {
  const parts = spec.trim().split(":");
  const host = parts[0] ?? "";
  let container = host;
  let permissions = "rwm";
  if (parts.length === 2) {
    if (isPermissions(parts[1] ?? "")) permissions = parts[1] ?? "";
    else container = parts[1] ?? "";
  } else if (parts.length === 3) {
    container = parts[1] ?? "";
    permissions = parts[2] ?? "";
    if (!isPermissions(permissions)) return null;
  } else if (parts.length > 3) {
    return null;
  }
  if (!isDevicePath(host) || !isDevicePath(container)) return null;
  return { spec, host, container, permissions };
}

function isPermissions(text: string): boolean {
  return /^[rwm]{1,3}$/.test(text) && new Set(text).size === text.length;
}

function isDevicePath(text: string): boolean {
  return /^\/[^\s:]*[^\s:/]$/.test(text) && !text.split("/").includes("..");
}
