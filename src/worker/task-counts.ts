/**
 * The worker's share of the per-minute task counters: the outcomes it stores are summed
 * here per (minute, task name) and added to the result backend a second after the first
 * uncounted one, so the counters cost at most one write per second however many tasks
 * finish, never one per task, and nothing while the worker is idle.
 * Every ten minutes it also prunes counters past the retention (a day).
 */
import type { MinuteCount, ResultBackend } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import { logger } from "../core/logger.ts";
import {
  MinuteCountPruner,
  mergeCells,
  oldestKeptMinute,
  statusCounts,
} from "../core/minute-counts.ts";
import type { TaskStatus } from "../core/states.ts";

const FLUSH_INTERVAL_MS = 1000;

export class TaskCounts {
  private pending: MinuteCount[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private closed = false;
  private writing: Promise<void> | null = null;
  private failing = false;
  private readonly pruner: MinuteCountPruner;

  constructor(
    private readonly backend: ResultBackend,
    private readonly clock: Clock,
    private readonly workerId: string,
  ) {
    this.pruner = new MinuteCountPruner(backend);
  }

  /** Counts statuses that were stored (finished runs and retries; other states add nothing). */
  count(statuses: TaskStatus[]): void {
    for (const status of statuses) this.pending.push(...statusCounts(status));
    this.schedule();
  }

  /** Flushes in a second when something is waiting (also what a failed write kept). */
  private schedule(): void {
    if (this.pending.length === 0 || this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().then(() => this.schedule());
    }, FLUSH_INTERVAL_MS);
    this.timer.unref?.();
  }

  /** Adds what was counted so far to the backend; a failed write keeps it for the next try. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    const cells = mergeCells(this.pending);
    this.pending = [];
    this.writing = this.write(cells).finally(() => {
      this.writing = null;
    });
    await this.writing;
  }

  /** Stops the timer after a last flush. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(cells: MinuteCount[]): Promise<void> {
    const now = this.clock.now();
    try {
      if (cells.length > 0) await this.backend.addMinuteCounts(cells);
      await this.pruner.maybePrune(now);
      if (this.failing) logger.info(`worker ${this.workerId}: storing task counters works again`);
      this.failing = false;
    } catch (error) {
      // Kept for the next flush (minutes past the retention are dropped); said once per outage.
      const oldest = oldestKeptMinute(now);
      this.pending.push(...cells.filter((c) => c.minute >= oldest));
      if (!this.failing)
        logger.warn(
          `worker ${this.workerId}: storing task counters failed, retrying: ${(error as Error).message}`,
        );
      this.failing = true;
    }
  }
}
