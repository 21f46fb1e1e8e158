// What the REST API asks of the master: one small interface, so routes are tested against a fake and
// the master never knows about HTTP.

export type UpdateType = "APP" | "MST";

export interface UpdateRequest {
  type: UpdateType;
  /** Path of the new application.yml (APP) or executable (MST), absolute or relative to the work dir. */
  path: string;
  trace?: string;
}

export interface LogsRequest {
  tail: number;
  follow: boolean;
  instance?: string;
}

export interface ApiBackend {
  inspect(): Promise<Record<string, unknown>>;
  update(request: UpdateRequest): Promise<void>;
  availablePort(): Promise<number>;
  startInstance(service: string, instance: string, env: Record<string, string>): Promise<void>;
  stopInstance(service: string, instance: string): Promise<void>;
  report(service: string, instance: string, stats: Record<string, unknown>): Promise<void>;
  logs(service: string, request: LogsRequest): Promise<ReadableStream<Uint8Array> | string>;
  metrics(): Promise<string>;
}
