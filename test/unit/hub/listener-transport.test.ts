// The socket transport's honest backpressure on a fake socket: partial writes kept in order, false
// past the bound, `drained` after the queue empties, close flushing first; the send queue's batching.

import { describe, expect, test } from "bun:test";
import type { ConnectionSink } from "../../../src/hub/contracts.ts";
import { type RawSocket, SocketTransport } from "../../../src/hub/listeners/index.ts";
import { FLUSH_CHUNK_BYTES, SendQueue } from "../../../src/hub/listeners/send-queue.ts";

class FakeSocket implements RawSocket {
  room = 0;
  written: number[] = [];
  writes: number[] = [];
  ended = false;
  terminated = false;
  write(bytes: Uint8Array): number {
    const n = Math.min(this.room, bytes.length);
    this.room -= n;
    this.writes.push(bytes.length);
    for (const b of bytes.subarray(0, n)) this.written.push(b);
    return n;
  }
  end(): void {
    this.ended = true;
  }
  terminate(): void {
    this.terminated = true;
  }
  paused = false;
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
}

function recordingSink() {
  const events: string[] = [];
  const sink: ConnectionSink = {
    data: () => events.push("data"),
    drained: () => events.push("drained"),
    closed: (e) => events.push(`closed${e ? `:${e.message}` : ""}`),
  };
  return { events, sink };
}

const bytes = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) % 256);

describe("socket transport", () => {
  test("keeps what the socket did not take, in order, and says false past the bound", () => {
    const socket = new FakeSocket();
    socket.room = 3;
    const t = new SocketTransport(socket, { remoteAddress: "x", listener: "tcp://:0", highWaterBytes: 10 });
    const { events, sink } = recordingSink();
    t.sink = sink;
    expect(t.write(bytes(0, 5))).toBe(true);
    expect(t.buffered).toBe(2);
    expect(t.write(bytes(5, 5))).toBe(true);
    expect(t.write(bytes(10, 5))).toBe(false);
    expect(t.buffered).toBe(12);
    socket.room = 5;
    t.onDrain();
    expect(events).toEqual([]);
    socket.room = 100;
    t.onDrain();
    expect(events).toEqual(["drained"]);
    expect(socket.written).toEqual([...bytes(0, 15)]);
    expect(t.buffered).toBe(0);
  });

  test("no drained event when write never said false", () => {
    const socket = new FakeSocket();
    const t = new SocketTransport(socket, { remoteAddress: "x", listener: "l", highWaterBytes: 100 });
    const { events, sink } = recordingSink();
    t.sink = sink;
    t.write(bytes(0, 4));
    socket.room = 10;
    t.onDrain();
    expect(events).toEqual([]);
    expect(socket.written.length).toBe(4);
  });

  test("close flushes queued bytes first; the core hears no closed() for its own close", () => {
    const socket = new FakeSocket();
    const t = new SocketTransport(socket, { remoteAddress: "x", listener: "l" });
    const { events, sink } = recordingSink();
    t.sink = sink;
    t.write(bytes(0, 4));
    t.close("bye");
    expect(socket.ended).toBe(false);
    expect(t.write(bytes(0, 1))).toBe(false);
    socket.room = 4;
    t.onDrain();
    expect(socket.ended).toBe(true);
    t.onClose();
    expect(events).toEqual([]);
  });

  test("a peer's close reaches the sink once; data after close is dropped", () => {
    const socket = new FakeSocket();
    const t = new SocketTransport(socket, { remoteAddress: "x", listener: "l" });
    const { events, sink } = recordingSink();
    t.sink = sink;
    t.onData(bytes(0, 1));
    t.onClose(new Error("reset"));
    t.onClose();
    t.onData(bytes(0, 1));
    expect(events).toEqual(["data", "closed:reset"]);
  });
});

describe("send queue", () => {
  test("joins small chunks into one write of at most about 1 MB", () => {
    const q = new SendQueue();
    for (let i = 0; i < 300; i++) q.push(new Uint8Array(8192));
    const sizes: number[] = [];
    expect(
      q.flush((b) => {
        sizes.push(b.length);
        return b.length;
      }),
    ).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(FLUSH_CHUNK_BYTES);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(300 * 8192);
    expect(sizes.length).toBe(3);
  });

  test("a big chunk goes as it is; partial takes resume mid-chunk", () => {
    const q = new SendQueue();
    q.push(bytes(0, 10));
    q.push(bytes(10, 10));
    const out: number[] = [];
    let room = 7;
    const write = (b: Uint8Array) => {
      const n = Math.min(room, b.length);
      room -= n;
      out.push(...b.subarray(0, n));
      return n;
    };
    expect(q.flush(write)).toBe(false);
    expect(q.length).toBe(13);
    room = 100;
    expect(q.flush(write)).toBe(true);
    expect(out).toEqual([...bytes(0, 20)]);
  });

  test("pause and resume reach the socket, and stop once the transport has ended", () => {
    const socket = new FakeSocket();
    const transport = new SocketTransport(socket, { remoteAddress: "x", listener: "tcp://t" });
    transport.pause();
    expect(socket.paused).toBe(true);
    transport.resume();
    expect(socket.paused).toBe(false);
    transport.close();
    transport.pause();
    expect(socket.paused).toBe(false);
  });
});
