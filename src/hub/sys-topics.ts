// `$SYS/broker/...` statistics, published on an interval only while someone subscribes to `$SYS`
// (an idle hub runs no timer); a new `$SYS` subscription gets a round promptly.

import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { HubStatsSnapshot } from "./stats.ts";

export class SysTopics {
  private timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly publish: (topic: string, value: string) => void,
    private readonly snapshot: () => HubStatsSnapshot,
  ) {}

  /** Called after subscriptions change; `joined` when a `$SYS` filter was just subscribed. */
  update(active: boolean, joined: boolean): void {
    if (!active) {
      this.stop();
      return;
    }
    if (joined || this.timer === null) this.schedule(0);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private schedule(ms: number): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.round();
      this.schedule(this.intervalMs);
    }, ms);
  }

  private round(): void {
    const s = this.snapshot();
    const values: Array<[string, number]> = [
      ["clients/connected", s.clients],
      ["clients/total", s.sessions],
      ["clients/expired", s.sessionsExpired], // mosquitto's name for the same count
      ["messages/received", s.messagesReceived],
      ["messages/sent", s.messagesSent],
      ["messages/dropped", s.dropped],
      ["bytes/received", s.bytesReceived],
      ["bytes/sent", s.bytesSent],
      ["subscriptions/count", s.subscriptions],
      ["retained messages/count", s.retained],
      ["uptime", s.uptimeSeconds],
    ];
    for (const [name, value] of values) {
      this.publish(`$SYS/broker/${name}`, name === "uptime" ? `${value} seconds` : String(value));
    }
  }
}
