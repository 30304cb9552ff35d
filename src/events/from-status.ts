/** Turns the statuses producers and workers store into the events they announce. */
import type { TaskStatus } from "../core/states.ts";
import type { TaskEvent, TaskEventState } from "./types.ts";

/** Error messages and reasons in events are cut to this many characters. */
export const MAX_EVENT_TEXT = 500;
/** Progress data whose JSON is longer than this is left out of the event. */
export const MAX_PROGRESS_DATA_BYTES = 1000;

function cut(text: string | undefined): string | undefined {
  if (text === undefined || text.length <= MAX_EVENT_TEXT) return text;
  return `${text.slice(0, MAX_EVENT_TEXT - 1)}…`;
}

function progressOf(progress: NonNullable<TaskStatus["progress"]>): TaskEvent["progress"] {
  if (progress.data === undefined) return { percent: progress.percent };
  let json: string | undefined;
  try {
    json = JSON.stringify(progress.data);
  } catch {
    json = undefined;
  }
  if (json === undefined || Buffer.byteLength(json) > MAX_PROGRESS_DATA_BYTES)
    return { percent: progress.percent, truncated: true };
  return { percent: progress.percent, data: progress.data };
}

function event(status: TaskStatus, state: TaskEventState, at: number): TaskEvent {
  const base: TaskEvent = {
    state,
    taskId: status.id,
    name: status.name,
    queue: status.queue,
    at,
    attempt: status.attempt,
  };
  if (status.workerId !== undefined) base.workerId = status.workerId;
  return base;
}

/**
 * The events a stored status stands for: none for `pending`; `failed` with the
 * dead-lettered flag gives `failed` then `dead-lettered`.
 */
export function eventsFromStatus(status: TaskStatus): TaskEvent[] {
  const at = status.updatedAt;
  const error = cut(status.error?.message);
  switch (status.state) {
    case "queued":
      return [event(status, "queued", at)];
    case "running":
      return status.progress
        ? [{ ...event(status, "progress", at), progress: progressOf(status.progress) }]
        : [event(status, "started", at)];
    case "retrying": {
      const next = status.meta.nextRetryAt;
      return [
        {
          ...event(status, "retried", at),
          error,
          ...(typeof next === "number" ? { nextRetryAt: next } : {}),
        },
      ];
    }
    case "succeeded":
      return [event(status, "succeeded", at)];
    case "failed": {
      const failed = { ...event(status, "failed", at), error };
      return status.meta.deadLettered === true
        ? [failed, { ...event(status, "dead-lettered", at), error }]
        : [failed];
    }
    case "dead":
      return [{ ...event(status, "dead-lettered", at), error, reason: cut(status.error?.type) }];
    case "revoked": {
      const reason = status.meta.revokedReason;
      return [
        {
          ...event(status, "revoked", at),
          ...(typeof reason === "string" ? { reason: cut(reason) } : {}),
        },
      ];
    }
    default:
      return [];
  }
}
