/**
 * Live throughput for the overview: samples the workers' heartbeat counters (processed,
 * failed) and the total queue depth at an interval and keeps per-interval rates in memory for the last 24 hours.
 * Counters are compared per worker, so a worker that restarts (counters back to 0) or
 * goes away never produces a negative rate.
 */
import type { WorkerHeartbeat } from "../adapters/contracts.ts";
import { logger } from "../core/logger.ts";

export interface ThroughputSample {
  /** End of the interval (epoch ms). */
  t: number;
  succeededPerSec: number;
  failedPerSec: number;
  /** Tasks waiting (pending + delayed) across queues at the sample. */
  depth: number;
}

/** What one sample reads: the heartbeats and the total queue depth. */
export interface SampleInput {
  heartbeats: WorkerHeartbeat[];
  depth: number;
}

const DAY_MS = 24 * 60 * 60_000;

export class ThroughputSampler {
  private readonly samples: ThroughputSample[] = [];
  private last = new Map<string, { processed: number; failed: number }>();
  private lastAt = 0;
  private timer?: ReturnType<typeof setInterval>;
  private running?: Promise<void>;
  private failing = false;

  constructor(
    private readonly read: () => Promise<SampleInput>,
    readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  /** Starts sampling (idempotent); the first sample sets the baseline. */
  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample now (a sample in progress is awaited rather than doubled). */
  sample(): Promise<void> {
    this.running ??= this.take().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async take(): Promise<void> {
    let input: SampleInput;
    try {
      input = await this.read();
    } catch (error) {
      // A store blip skips this sample; the next one measures across the gap. Said once per outage.
      if (!this.failing)
        logger.warn(`dashboard: sampling throughput failed, retrying: ${(error as Error).message}`);
      this.failing = true;
      return;
    }
    if (this.failing) logger.info("dashboard: sampling throughput works again");
    this.failing = false;
    const now = this.now();
    const current = new Map(
      input.heartbeats.map((b) => [b.workerId, { processed: b.processed, failed: b.failed }]),
    );
    if (this.lastAt > 0 && now > this.lastAt) {
      let processed = 0;
      let failed = 0;
      for (const [id, c] of current) {
        const before = this.last.get(id) ?? { processed: 0, failed: 0 };
        // A restarted worker reports smaller counters: count from zero.
        const base = c.processed < before.processed ? { processed: 0, failed: 0 } : before;
        processed += c.processed - base.processed;
        failed += Math.max(0, c.failed - base.failed);
      }
      const seconds = (now - this.lastAt) / 1000;
      this.samples.push({
        t: now,
        succeededPerSec: Math.max(0, processed - failed) / seconds,
        failedPerSec: failed / seconds,
        depth: input.depth,
      });
      while (this.samples.length > 0 && this.samples[0].t < now - DAY_MS) this.samples.shift();
    }
    this.last = current;
    this.lastAt = now;
  }

  /** Samples of the last `windowMs`, averaged into at most `points` buckets. */
  series(windowMs: number, points = 120): ThroughputSample[] {
    const end = this.now();
    const start = end - windowMs;
    const width = windowMs / points;
    const buckets = new Map<number, { s: number; f: number; d: number; n: number }>();
    for (const sample of this.samples) {
      if (sample.t <= start) continue;
      const i = Math.min(points - 1, Math.floor((sample.t - start) / width));
      const b = buckets.get(i) ?? { s: 0, f: 0, d: 0, n: 0 };
      b.s += sample.succeededPerSec;
      b.f += sample.failedPerSec;
      b.d = sample.depth;
      b.n++;
      buckets.set(i, b);
    }
    return [...buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([i, b]) => ({
        t: Math.round(start + (i + 1) * width),
        succeededPerSec: b.s / b.n,
        failedPerSec: b.f / b.n,
        depth: b.d,
      }));
  }
}
