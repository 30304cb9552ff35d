/** One due time of a schedule entry on its way to the broker, and how it is published. */
import type { Clock } from "../core/clock.ts";
import type { TaskCall } from "../core/definition.ts";
import { formatDuration } from "../core/duration.ts";
import { Headers } from "../core/envelope.ts";
import { isTransientError, toError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
import type { ScheduleEntry } from "../core/schedule.ts";
import { signals } from "../core/signals.ts";
import type { BeatProducer, BeatSkip, BeatStats } from "./beat-options.ts";

/** One due time being dispatched. */
export interface Dispatch {
  entry: ScheduleEntry;
  scheduledFor: number;
  skipped: number;
  moreSkipped: boolean;
  jitterMs: number;
  taskId: string;
  next: number | null;
  /** Its task is known to have been published before (see wasPublished). */
  already: boolean;
  executedAt?: number;
  error?: string;
  /** The publish failed in a way that may pass (see isTransientError): worth retrying. */
  retryable?: boolean;
}

/** The task a dispatch enqueues: its fixed id, marked as sent by Beat for its entry. */
function dispatchCall(d: Dispatch): TaskCall {
  const e = d.entry;
  return {
    name: e.taskName,
    args: e.args,
    options: {
      taskId: d.taskId,
      queue: e.queue,
      headers: { [Headers.scheduledFrom]: "beat", [Headers.scheduleId]: e.id },
      meta: { ...e.meta, kwargs: e.kwargs },
      eta: d.jitterMs > 0 ? d.scheduledFor + d.jitterMs : undefined,
    },
  };
}

/**
 * Publishes in one batch; when the batch fails, one by one so each entry gets its own
 * outcome (its `error`, and whether it is worth retrying).
 */
export async function publishDispatches(
  stem: BeatProducer,
  clock: Clock,
  dispatches: Dispatch[],
): Promise<void> {
  if (dispatches.length === 0) return;
  const failed = (d: Dispatch, error: unknown) => {
    d.error = toError(error).message;
    d.retryable = isTransientError(error);
  };
  try {
    await stem.enqueueOnce(dispatches.map(dispatchCall));
    const at = clock.now();
    for (const d of dispatches) d.executedAt = at;
    return;
  } catch (error) {
    if (dispatches.length === 1) {
      failed(dispatches[0], error);
      dispatches[0].executedAt = clock.now();
      return;
    }
  }
  for (const d of dispatches) {
    try {
      await stem.enqueueOnce([dispatchCall(d)]);
    } catch (error) {
      failed(d, error);
    }
    d.executedAt = clock.now();
  }
}

/** Dispatches grouped by due time, earliest first. */
export function byDueTime(dispatches: Dispatch[]): Dispatch[][] {
  const groups = new Map<number, Dispatch[]>();
  for (const d of dispatches) {
    const group = groups.get(d.scheduledFor);
    if (group) group.push(d);
    else groups.set(d.scheduledFor, [d]);
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, group]) => group);
}

/** Counts and logs a recorded dispatch, and emits its signal. */
export function reportDispatch(
  d: Dispatch,
  driftMs: number,
  stats: BeatStats,
  onSkip: (skip: BeatSkip) => void,
): void {
  const e = d.entry;
  if (d.skipped > 0) {
    stats.skippedRuns += d.skipped;
    const count = `${d.moreSkipped ? "more than " : ""}${d.skipped}`;
    onSkip({
      entryId: e.id,
      reason: "missed-runs",
      skipped: d.skipped,
      message:
        `schedule "${e.id}": ${formatDuration(Math.max(0, (d.executedAt ?? d.scheduledFor) - (e.nextRunAt as number)))} overdue; ` +
        `fired the latest missed run (${new Date(d.scheduledFor).toISOString()}) once and skipped ${count} earlier run(s)`,
    });
  }
  const payload = { entryId: e.id, taskName: e.taskName, scheduledFor: d.scheduledFor };
  if (d.error !== undefined) {
    stats.failed++;
    logger.warn(
      `dispatch of ${e.id} failed: could not enqueue ${e.taskName}: ${d.error} (next try at the next due time)`,
    );
    signals.scheduleEntryFailed.emit({ ...payload, error: d.error });
    return;
  }
  if (d.already) stats.alreadyDispatched++;
  else stats.dispatched++;
  logger.info(
    `${d.already ? "recorded (already published)" : "dispatched"} ${e.id} → task ${d.taskId}, drift ${driftMs} ms`,
  );
  signals.scheduleEntryDispatched.emit({ ...payload, taskId: d.taskId, driftMs });
  if (d.next === null) logger.info(`schedule "${e.id}" has no more runs; disabled`);
}
