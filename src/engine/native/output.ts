// Copies an instance's stdout and stderr into its rotating log file
// (`var/log/openedge/<service>/<instance>.log`) until the pipes close.

import type { Clock } from "../../lib/clock.ts";
import type { RotatingFile } from "../../log/index.ts";

export class OutputCapture {
  private readonly readers: { cancel(): Promise<void> }[] = [];
  private readonly pumping: Promise<void>;

  constructor(
    private readonly file: RotatingFile,
    streams: readonly ReadableStream<Uint8Array>[],
  ) {
    this.pumping = Promise.all(streams.map((s) => this.pump(s))).then(() => undefined);
  }

  /**
   * Waits for the pipes to drain, at most `timeoutMs` (a leftover that still holds a pipe must not
   * keep the instance from ending), then closes the file.
   */
  async close(timeoutMs: number, clock: Clock): Promise<void> {
    let timer: { cancel(): void } | undefined;
    await Promise.race([
      this.pumping,
      new Promise<void>((resolve) => {
        timer = clock.setTimeout(resolve, timeoutMs);
      }),
    ]);
    timer?.cancel();
    for (const r of this.readers) r.cancel().catch(() => {});
    await this.pumping.catch(() => {});
    this.file.close();
  }

  private async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = stream.getReader();
    this.readers.push(reader);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (value !== undefined && value.length > 0) this.write(value);
      }
    } catch {
      // cancelled on close
    }
  }

  private write(chunk: Uint8Array): void {
    try {
      this.file.write(chunk);
    } catch {
      // a full disk must not stop the service; its output is lost until space returns
    }
  }
}
