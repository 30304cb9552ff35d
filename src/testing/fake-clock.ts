import type { Clock } from "../core/clock.ts";

interface Sleeper {
  at: number;
  resolve(): void;
}

/**
 * A clock that moves only when told. Inject it into workers, Beat, brokers and stores,
 * then `advance()` instead of sleeping: every sleep whose time has come resolves.
 */
export class FakeClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];

  constructor(start: number | Date = Date.UTC(2025, 0, 1)) {
    this.current = typeof start === "number" ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (ms <= 0 || signal?.aborted) return resolve();
      const sleeper: Sleeper = {
        at: this.current + ms,
        resolve: () => {
          signal?.removeEventListener("abort", sleeper.resolve);
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener("abort", sleeper.resolve, { once: true });
    });
  }

  /** Moves time forward, waking sleepers in time order, and lets their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const next = this.sleepers.filter((s) => s.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.current = Math.max(this.current, next.at);
      next.resolve();
      await new Promise((r) => setImmediate(r));
    }
    this.current = target;
    await new Promise((r) => setImmediate(r));
  }

  /** Jumps to an absolute time (forward only). */
  async set(time: number | Date): Promise<void> {
    const t = typeof time === "number" ? time : time.getTime();
    await this.advance(Math.max(0, t - this.current));
  }

  /** Number of pending sleeps (useful to know a component is waiting). */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }
}
