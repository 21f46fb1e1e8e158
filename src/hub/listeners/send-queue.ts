// Bytes a socket did not take yet. Bun's socket `write` returns how much it took and keeps nothing, so
// the rest waits here; each drain sends at most about 1 MB (small chunks joined into one write).

/** One flush's worth: big enough to amortise a system call, small enough to bound the copy. */
export const FLUSH_CHUNK_BYTES = 1024 * 1024;

export class SendQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private bytes = 0;

  get length(): number {
    return this.bytes;
  }

  /** Keeps `bytes` (by reference: writers hand over buffers they no longer touch). */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.bytes += bytes.length;
  }

  /**
   * Writes from the front until the socket takes less than offered; returns whether all went out.
   * `write` returns the number of bytes the socket took (0 when its buffer is full).
   */
  flush(write: (bytes: Uint8Array) => number): boolean {
    while (this.bytes > 0) {
      const batch = this.nextBatch();
      const taken = Math.max(0, write(batch));
      this.consume(taken);
      if (taken < batch.length) return false;
    }
    return true;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** The front bytes: the first chunk as is when it is big or alone, else chunks joined up to 1 MB. */
  private nextBatch(): Uint8Array {
    const first = (this.chunks[0] ?? new Uint8Array(0)).subarray(this.head);
    if (this.chunks.length === 1 || first.length >= FLUSH_CHUNK_BYTES / 2) return first;
    let size = 0;
    let count = 0;
    for (const chunk of this.chunks) {
      const len = count === 0 ? first.length : chunk.length;
      if (count > 0 && size + len > FLUSH_CHUNK_BYTES) break;
      size += len;
      count++;
    }
    if (count === 1) return first;
    const out = new Uint8Array(size);
    let at = 0;
    for (let i = 0; i < count; i++) {
      const part = i === 0 ? first : (this.chunks[i] ?? new Uint8Array(0));
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  private consume(n: number): void {
    this.bytes -= n;
    let left = n;
    while (left > 0) {
      const chunk = this.chunks[0];
      if (chunk === undefined) break;
      const rest = chunk.length - this.head;
      if (left < rest) {
        this.head += left;
        return;
      }
      left -= rest;
      this.chunks.shift();
      this.head = 0;
    }
  }
}
