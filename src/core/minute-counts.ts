/**
 * Per-minute counters kept in the result backend: what workers finished per task name
 * (succeeded, failed, retried, durations as a log-scale histogram) and the queue depth
 * the dashboard sampled. Each stored cell is (minute, series, counter) → a number that
 * writers only ever add to, so any number of workers and dashboards can write at once
 * and every reader sees the same history. Kept for MINUTE_COUNTS_RETENTION_MS.
 */
import type { MinuteCount, ResultBackend } from "../adapters/contracts.ts";
import type { TaskStatus } from "./states.ts";

export const MINUTE_MS = 60_000;
/** How long counters are kept: the dashboard's longest window, one day. */
export const MINUTE_COUNTS_RETENTION_MS = 24 * 60 * MINUTE_MS;

/** The start of the minute `t` falls in. */
export function minuteOf(t: number): number {
  return Math.floor(t / MINUTE_MS) * MINUTE_MS;
}

/** The oldest minute still kept at `now`: prune everything before it. */
export function oldestKeptMinute(now: number): number {
  return minuteOf(now) - MINUTE_COUNTS_RETENTION_MS;
}

/**
 * Deletes counters past the retention, at most once per ten minutes: every writer (worker
 * or dashboard) runs one, so the counters stay bounded whichever of them is running.
 */
export class MinuteCountPruner {
  private nextAt = 0;

  constructor(private readonly backend: ResultBackend) {}

  async maybePrune(now: number): Promise<void> {
    if (now < this.nextAt) return;
    this.nextAt = now + 10 * MINUTE_MS;
    await this.backend.pruneMinuteCounts(oldestKeptMinute(now));
  }
}

/**
 * Duration histogram buckets: bucket i counts durations up to 2^(i/4) ms (bucket 0 up
 * to 1 ms), so neighbouring bounds differ by 19% and a percentile read from the buckets
 * is within about 10% of the true one. The last bucket takes everything longer (~9 h).
 */
export const DURATION_BUCKETS = 101;

/** The bucket a duration (ms) is counted in. */
export function durationBucket(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(DURATION_BUCKETS - 1, Math.ceil(4 * Math.log2(ms)));
}

/** The upper bound (ms) of bucket `i`. */
export function bucketUpperBound(i: number): number {
  return 2 ** (i / 4);
}

/** Series and counter names as stored. */
const TASK_SERIES = "task:";
const QUEUE_SERIES = "queue:";
const BUCKET_COUNTER = "le:";

export function taskSeries(name: string): string {
  return TASK_SERIES + name;
}

export function queueSeries(name: string): string {
  return QUEUE_SERIES + name;
}

/** One task name's counters over some minutes. */
export interface TaskCounts {
  succeeded: number;
  failed: number;
  retried: number;
  /** Sum of the counted durations (ms). */
  durationMs: number;
  /** Durations counted per bucket (index → count; see DURATION_BUCKETS). */
  buckets: Map<number, number>;
}

export function emptyTaskCounts(): TaskCounts {
  return { succeeded: 0, failed: 0, retried: 0, durationMs: 0, buckets: new Map() };
}

/**
 * The cells one stored status adds: a finished run (succeeded; failed or dead) with its
 * duration, or a retry. Other states count nothing.
 */
export function statusCounts(status: TaskStatus): MinuteCount[] {
  const outcome =
    status.state === "succeeded"
      ? "succeeded"
      : status.state === "failed" || status.state === "dead"
        ? "failed"
        : status.state === "retrying"
          ? "retried"
          : undefined;
  if (!outcome) return [];
  const minute = minuteOf(status.finishedAt ?? status.updatedAt);
  const series = taskSeries(status.name);
  const cells: MinuteCount[] = [{ minute, series, counter: outcome, value: 1 }];
  if (outcome !== "retried" && status.startedAt !== undefined && status.finishedAt !== undefined) {
    const ms = Math.max(0, status.finishedAt - status.startedAt);
    cells.push({ minute, series, counter: "duration_ms", value: ms });
    cells.push({ minute, series, counter: BUCKET_COUNTER + durationBucket(ms), value: 1 });
  }
  return cells;
}

/** Adds a task cell to `counts`. */
function addTaskCell(counts: TaskCounts, counter: string, value: number): void {
  if (counter === "succeeded" || counter === "failed" || counter === "retried")
    counts[counter] += value;
  else if (counter === "duration_ms") counts.durationMs += value;
  else if (counter.startsWith(BUCKET_COUNTER)) {
    const i = Number(counter.slice(BUCKET_COUNTER.length));
    counts.buckets.set(i, (counts.buckets.get(i) ?? 0) + value);
  }
}

/** The cells of one queue-depth sample (a sum and a sample count, so any number of samplers average right). */
export function depthSampleCounts(minute: number, queue: string, depth: number): MinuteCount[] {
  const series = queueSeries(queue);
  return [
    { minute, series, counter: "depth_sum", value: depth },
    { minute, series, counter: "depth_samples", value: 1 },
  ];
}

/** Stored cells summed per task name, and per queue the depth sum and sample count. */
export interface CountsByName {
  tasks: Map<string, TaskCounts>;
  depth: Map<string, { sum: number; samples: number }>;
}

/** Sums cells (any minutes) per task name and per queue. */
export function sumCounts(cells: Iterable<MinuteCount>): CountsByName {
  const out: CountsByName = { tasks: new Map(), depth: new Map() };
  for (const cell of cells) {
    if (cell.series.startsWith(TASK_SERIES)) {
      const name = cell.series.slice(TASK_SERIES.length);
      let counts = out.tasks.get(name);
      if (!counts) out.tasks.set(name, (counts = emptyTaskCounts()));
      addTaskCell(counts, cell.counter, cell.value);
    } else if (cell.series.startsWith(QUEUE_SERIES)) {
      const queue = cell.series.slice(QUEUE_SERIES.length);
      const depth = out.depth.get(queue) ?? { sum: 0, samples: 0 };
      if (cell.counter === "depth_sum") depth.sum += cell.value;
      else if (cell.counter === "depth_samples") depth.samples += cell.value;
      out.depth.set(queue, depth);
    }
  }
  return out;
}

/** Adds `more` into `into`. */
export function mergeTaskCounts(into: TaskCounts, more: TaskCounts): TaskCounts {
  into.succeeded += more.succeeded;
  into.failed += more.failed;
  into.retried += more.retried;
  into.durationMs += more.durationMs;
  for (const [i, n] of more.buckets) into.buckets.set(i, (into.buckets.get(i) ?? 0) + n);
  return into;
}

/**
 * The p-th percentile (0–100) of the counted durations, read from the histogram: the
 * geometric middle of the bucket holding the nearest-rank sample; undefined for none.
 */
export function histogramPercentile(buckets: Map<number, number>, p: number): number | undefined {
  const total = [...buckets.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = Math.min(total, Math.max(1, Math.ceil((p / 100) * total)));
  let seen = 0;
  for (const i of [...buckets.keys()].sort((a, b) => a - b)) {
    seen += buckets.get(i) ?? 0;
    if (seen >= rank) return i === 0 ? 1 : Math.sqrt(bucketUpperBound(i - 1) * bucketUpperBound(i));
  }
  return undefined;
}

/** Merges cells with the same (minute, series, counter) into one, summing values. */
export function mergeCells(cells: Iterable<MinuteCount>): MinuteCount[] {
  const merged = new Map<string, MinuteCount>();
  for (const c of cells) {
    const key = `${c.minute}\n${c.series}\n${c.counter}`;
    const found = merged.get(key);
    if (found) found.value += c.value;
    else merged.set(key, { ...c });
  }
  return [...merged.values()];
}
