// The PUBLISH being handled, as the hub's message: one object reused for every PUBLISH received, which
// reads its payload and frame in place in the read chunk. At tens of thousands of messages a second
// the views and the message object made for each were a large part of what the hub allocated, and so
// of its garbage collections (~2 ms pauses; at 50k msg/s 18 → 14 in 4 s, 4 of them Bun's own timer).

import type { OutBuffer } from "./out-buffer.ts";
import type { PublishPacket } from "./packets.ts";
import type { HubMessage } from "./session.ts";

const NOTHING = new Uint8Array(0);

/**
 * Also the packet it was decoded from (`decodePublish` writes straight into it): fields that say where
 * the frame lies, and none copied from one object to another per message.
 */
export class ReceivedMessage implements HubMessage, PublishPacket {
  topic = "";
  qos: 0 | 1 | 2 = 0;
  retain = false;
  dup = false;
  packetId = 0;
  topicBytes: Uint8Array = NOTHING;
  qos0Frame: Uint8Array | undefined = undefined;
  buf: Uint8Array = NOTHING;
  frameStart = 0;
  payloadStart = 0;
  end = 0;
  private payloadView: Uint8Array | null = null;
  private copy: HubMessage | null = null;

  /** The frame as received is the QoS 0, RETAIN 0 frame every QoS 0 subscriber gets. */
  get forwardable(): boolean {
    return this.qos === 0 && !this.retain;
  }

  /** Lets go of the read chunk, and of what was made for this message: the next one starts afresh. */
  clear(): void {
    this.buf = NOTHING;
    this.topicBytes = NOTHING;
    this.qos0Frame = undefined;
    this.payloadView = null;
    this.copy = null;
  }

  /** A view, made only for a recipient that needs the payload on its own. */
  get payload(): Uint8Array {
    this.payloadView ??= this.buf.subarray(this.payloadStart, this.end);
    return this.payloadView;
  }

  /** Appends the frame as received (see `forwardable`). */
  forwardTo(out: OutBuffer): void {
    out.rawRange(this.buf, this.frameStart, this.end);
  }

  /** The copy kept past this publish, with bytes of its own: one, shared by all who keep it. */
  keep(): HubMessage {
    this.copy ??= {
      topic: this.topic,
      payload: this.buf.slice(this.payloadStart, this.end),
      qos: this.qos,
      retain: this.retain,
      topicBytes: this.topicBytes.buffer !== this.buf.buffer ? this.topicBytes : undefined,
      detached: true,
    };
    return this.copy;
  }
}
