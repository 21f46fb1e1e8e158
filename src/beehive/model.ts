// The beehive message model (KubeEdge's): header, route and content, plus the helpers that build a
// message, route it, and answer it. Content is any value the codecs carry, binary included.

export interface MessageHeader {
  /** uuid v4 */
  id: string;
  /** Id of the message this one answers; "" when it answers nothing. */
  parentId: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  resourceVersion: string;
  /** True on a request sent with sendSync and on its response. */
  sync: boolean;
  type: string;
}

export interface MessageRoute {
  source: string;
  destination: string;
  group: string;
  operation: string;
  resource: string;
}

export interface Message<T = unknown> {
  header: MessageHeader;
  route: MessageRoute;
  content: T;
}

export const Operation = {
  insert: "insert",
  delete: "delete",
  query: "query",
  update: "update",
  patch: "patch",
  upload: "upload",
  response: "response",
  error: "error",
} as const;
export type OperationName = (typeof Operation)[keyof typeof Operation];

/** Resource names our modules put in `route.resource`. */
export const Resource = {
  node: "node",
  pod: "pod",
  service: "service",
  instance: "instance",
  application: "application",
  device: "device",
  twin: "twin",
  membership: "membership",
  function: "function",
  app: "app",
  inspect: "inspect",
  message: "message",
  config: "config",
} as const;
export type ResourceName = (typeof Resource)[keyof typeof Resource];

/** Module groups used to address several modules at once. */
export const Group = {
  hub: "hub",
  function: "function",
  bridge: "bridge",
  agent: "agent",
  twin: "twin",
  meta: "meta",
  engine: "engine",
  api: "api",
  bus: "bus",
} as const;

export interface BuildMessageOptions<T> {
  source: string;
  destination?: string;
  group?: string;
  operation: string;
  resource: string;
  content: T;
  parentId?: string;
  resourceVersion?: string;
  sync?: boolean;
  type?: string;
  /** Milliseconds since the epoch; defaults to Date.now() (pass clock.now() where time is injected). */
  timestamp?: number;
}

export function buildMessage<T>(options: BuildMessageOptions<T>): Message<T> {
  return {
    header: {
      id: crypto.randomUUID(),
      parentId: options.parentId ?? "",
      timestamp: options.timestamp ?? Date.now(),
      resourceVersion: options.resourceVersion ?? "",
      sync: options.sync ?? false,
      type: options.type ?? "",
    },
    route: {
      source: options.source,
      destination: options.destination ?? "",
      group: options.group ?? "",
      operation: options.operation,
      resource: options.resource,
    },
    content: options.content,
  };
}

/** A copy of `msg` with some route fields replaced (header and content shared). */
export function withRoute<T>(msg: Message<T>, route: Partial<MessageRoute>): Message<T> {
  return { header: msg.header, route: { ...msg.route, ...route }, content: msg.content };
}

/** The response to `request`: parentId is the request's id, source and destination swapped. */
export function responseTo<T>(
  request: Message,
  content: T,
  options: { operation?: string; timestamp?: number } = {},
): Message<T> {
  return {
    header: {
      id: crypto.randomUUID(),
      parentId: request.header.id,
      timestamp: options.timestamp ?? Date.now(),
      resourceVersion: request.header.resourceVersion,
      // the sync flag travels back so a response that arrives after its waiter gave up is known late
      sync: request.header.sync,
      type: request.header.type,
    },
    route: {
      source: request.route.destination,
      destination: request.route.source,
      group: request.route.group,
      operation: options.operation ?? Operation.response,
      resource: request.route.resource,
    },
    content,
  };
}

export interface ErrorContent {
  code: string;
  message: string;
}

/** An error response: operation "error", content `{code, message}`. */
export function errorResponseTo(
  request: Message,
  code: string,
  message: string,
  options: { timestamp?: number } = {},
): Message<ErrorContent> {
  return responseTo<ErrorContent>(request, { code, message }, { ...options, operation: Operation.error });
}

export function isErrorResponse(msg: Message): msg is Message<ErrorContent> {
  return msg.route.operation === Operation.error;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Shape check for messages that arrive from outside the process. */
export function isMessage(value: unknown): value is Message {
  if (!isRecord(value) || !isRecord(value.header) || !isRecord(value.route)) return false;
  const h = value.header;
  const r = value.route;
  return (
    typeof h.id === "string" &&
    typeof h.parentId === "string" &&
    typeof h.timestamp === "number" &&
    typeof h.sync === "boolean" &&
    typeof r.source === "string" &&
    typeof r.destination === "string" &&
    typeof r.group === "string" &&
    typeof r.operation === "string" &&
    typeof r.resource === "string"
  );
}
