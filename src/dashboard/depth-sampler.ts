/**
 * Queue depth history: a dashboard samples every queue's depth (pending + delayed) at an
 * interval and adds each sample to the per-minute counters as a sum and a sample count,
 * so the chart shows the average depth per minute however many dashboards sample (and
 * has gaps where none ran). Task throughput needs no sampling: workers count it. It
 * prunes old counters too, so they stay bounded when no worker runs.
 */
import type { QueueStats, ResultBackend } from "../adapters/contracts.ts";
import { logger } from "../core/logger.ts";
import { MinuteCountPruner, depthSampleCounts, minuteOf } from "../core/minute-counts.ts";

export class DepthSampler {
  private timer?: ReturnType<typeof setInterval>;
  private running?: Promise<void>;
  private failing = false;
  private readonly pruner: MinuteCountPruner;

  constructor(
    private readonly stats: () => Promise<QueueStats[]>,
    private readonly backend: ResultBackend,
    readonly intervalMs: number,
    private readonly now: () => number,
  ) {
    this.pruner = new MinuteCountPruner(backend);
  }

  /** Starts sampling (idempotent), with a first sample now. */
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
    try {
      const now = this.now();
      const stats = await this.stats();
      await this.backend.addMinuteCounts(
        stats.flatMap((s) => depthSampleCounts(minuteOf(now), s.queue, s.pending + s.delayed)),
      );
      await this.pruner.maybePrune(now);
    } catch (error) {
      // A store blip skips this sample (a gap in the chart). Said once per outage.
      if (!this.failing)
        logger.warn(
          `dashboard: sampling queue depth failed, retrying: ${(error as Error).message}`,
        );
      this.failing = true;
      return;
    }
    if (this.failing) logger.info("dashboard: sampling queue depth works again");
    this.failing = false;
  }
}
