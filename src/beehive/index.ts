// Public surface of the beehive module bus: message model, BusContext and its two transports, the
// module registry, framing and stats. Other components import from here only.

export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
export { ChannelContext, type ChannelContextDeps } from "./channel-context.ts";
export {
  CODEC_JSON,
  CODEC_MSGPACK,
  type Codec,
  type CodecId,
  type CodecName,
  codecById,
  codecByName,
  jsonCodec,
  msgpackCodec,
} from "./codec.ts";
export {
  type BusContext,
  DEFAULT_QUEUE_CAPACITY,
  DEFAULT_SYNC_TIMEOUT_MS,
  type SendOptions,
} from "./context.ts";
export { FrameSocket, type FrameSocketOptions } from "./frame-socket.ts";
export { type BeehiveModule, type KeeperState, ModuleKeeper } from "./keeper.ts";
export {
  type BuildMessageOptions,
  buildMessage,
  type ErrorContent,
  errorResponseTo,
  Group,
  isErrorResponse,
  isMessage,
  type Message,
  type MessageHeader,
  type MessageRoute,
  Operation,
  type OperationName,
  Resource,
  type ResourceName,
  responseTo,
  withRoute,
} from "./model.ts";
export {
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  FrameDecoder,
  type FrameRejection,
  HEADER_BYTES,
} from "./packer.ts";
export { type ModuleInfo, ModuleRegistry, type RegistryDeps, type StopReport } from "./registry.ts";
export { connectRemoteBus, SocketClientContext, type SocketClientDeps } from "./socket-client.ts";
export { DEFAULT_DELIVERY_WINDOW, SocketServer, type SocketServerDeps } from "./socket-server.ts";
export type { BusStats, ModuleStats } from "./stats.ts";
