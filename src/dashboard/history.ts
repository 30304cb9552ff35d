/**
 * History for the dashboard's charts, read from the per-minute counters in the result
 * backend (core/minute-counts.ts), so it survives a dashboard restart and reads the same
 * from every dashboard process. A minute is cached once settled (two minutes after it
 * ends, when workers have long flushed it); the cache is dropped every ten minutes, so a
 * late write from a worker that was cut off is picked up then.
 */
import type { MinuteCount, ResultBackend } from "../adapters/contracts.ts";
import {
  type TaskCounts,
  MINUTE_MS,
  emptyTaskCounts,
  histogramPercentile,
  mergeTaskCounts,
  minuteOf,
  sumCounts,
} from "../core/minute-counts.ts";

const SETTLED_AFTER_MS = 2 * MINUTE_MS;
const CACHE_LIFETIME_MS = 10 * MINUTE_MS;
/** Charts get at most this many points; longer windows sum minutes per point. */
const MAX_POINTS = 120;

/** Reads counter cells by minute range, caching settled minutes. */
export class MinuteCountReader {
  private cached = new Map<number, MinuteCount[]>();
  private cachedFrom = 0;
  private cachedTo = 0;
  private cacheStartedAt = 0;

  constructor(
    private readonly backend: ResultBackend,
    private readonly now: () => number,
  ) {}

  /** The cells of minutes in [from, to), per minute. */
  async read(from: number, to: number): Promise<Map<number, MinuteCount[]>> {
    const now = this.now();
    if (now - this.cacheStartedAt > CACHE_LIFETIME_MS || from < this.cachedFrom) {
      this.cached.clear();
      this.cachedFrom = this.cachedTo = 0;
      this.cacheStartedAt = now;
    }
    const settledEnd = Math.min(to, minuteOf(now - SETTLED_AFTER_MS));
    if (this.cachedTo === 0) this.cachedFrom = this.cachedTo = from;
    // Settled minutes not cached yet are read once and kept.
    if (settledEnd > this.cachedTo) {
      for (const [minute, cells] of await this.fetch(this.cachedTo, settledEnd))
        this.cached.set(minute, cells);
      this.cachedTo = settledEnd;
    }
    const fresh = await this.fetch(Math.max(from, this.cachedTo), to);
    const out = new Map<number, MinuteCount[]>();
    for (const [minute, cells] of this.cached)
      if (minute >= from && minute < to) out.set(minute, cells);
    for (const [minute, cells] of fresh) out.set(minute, cells);
    return out;
  }

  private async fetch(from: number, to: number): Promise<Map<number, MinuteCount[]>> {
    const byMinute = new Map<number, MinuteCount[]>();
    if (to <= from) return byMinute;
    for (const cell of await this.backend.readMinuteCounts({ from, to })) {
      const list = byMinute.get(cell.minute);
      if (list) list.push(cell);
      else byMinute.set(cell.minute, [cell]);
    }
    return byMinute;
  }
}

/** One chart point: a bucket of minutes ending at `t`. */
export interface HistoryBucket {
  /** End of the bucket (epoch ms). */
  t: number;
  /** Seconds of the bucket that have passed (less than its width for the current one). */
  seconds: number;
  /** Task counts per name in the bucket. */
  tasks: Map<string, TaskCounts>;
  /** Average sampled depth per queue in the bucket (queues sampled in it only). */
  depth: Map<string, number>;
}

/** A window's buckets, oldest first, and its totals per task name. */
export interface History {
  /** Start of the window (epoch ms). */
  start: number;
  buckets: HistoryBucket[];
  totals: Map<string, TaskCounts>;
}

/**
 * The window of `windowMs` ending with the current minute, in buckets of whole minutes
 * (at most MAX_POINTS of them), every bucket present even when nothing happened in it.
 */
export async function readHistory(
  reader: MinuteCountReader,
  now: number,
  windowMs: number,
): Promise<History> {
  const end = minuteOf(now) + MINUTE_MS;
  const start = end - windowMs;
  const width = Math.ceil(windowMs / MINUTE_MS / MAX_POINTS) * MINUTE_MS;
  const cells = await reader.read(start, end);
  const buckets: HistoryBucket[] = [];
  const totals = new Map<string, TaskCounts>();
  for (let from = start; from < end; from += width) {
    const to = Math.min(end, from + width);
    const inBucket: MinuteCount[] = [];
    for (let m = from; m < to; m += MINUTE_MS) inBucket.push(...(cells.get(m) ?? []));
    const sums = sumCounts(inBucket);
    const depth = new Map<string, number>();
    for (const [queue, d] of sums.depth) if (d.samples > 0) depth.set(queue, d.sum / d.samples);
    for (const [name, counts] of sums.tasks) {
      const total = totals.get(name) ?? emptyTaskCounts();
      totals.set(name, mergeTaskCounts(total, counts));
    }
    buckets.push({
      t: to,
      seconds: Math.max(1, (Math.min(to, now) - from) / 1000),
      tasks: sums.tasks,
      depth,
    });
  }
  return { start, buckets, totals };
}

/** Counts of all task names (or one) summed. */
export function tasksTotal(tasks: Map<string, TaskCounts>, name?: string): TaskCounts {
  const total = emptyTaskCounts();
  for (const [n, counts] of tasks)
    if (name === undefined || n === name) mergeTaskCounts(total, counts);
  return total;
}

/** What the metrics page shows of some counts. */
export function summary(counts: TaskCounts) {
  const finished = counts.succeeded + counts.failed;
  const timed = [...counts.buckets.values()].reduce((a, b) => a + b, 0);
  return {
    count: finished,
    succeeded: counts.succeeded,
    failed: counts.failed,
    retried: counts.retried,
    failureRate: finished ? counts.failed / finished : 0,
    meanMs: timed ? counts.durationMs / timed : undefined,
    p50: histogramPercentile(counts.buckets, 50),
    p95: histogramPercentile(counts.buckets, 95),
    p99: histogramPercentile(counts.buckets, 99),
  };
}
