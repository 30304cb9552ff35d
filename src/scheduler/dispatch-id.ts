/**
 * The task id Beat gives each dispatch: made from the entry id and the due time it fires
 * for, so every Beat process computes the same id for the same due time and the broker
 * (which refuses an id that is already queued) and the result backend (which keeps the
 * task's status) can tell a second dispatch of that due time from a new one.
 */

const PREFIX = "sched-";

/** `sched-<entryId>-<dueAt ms>`, e.g. `sched-nightly-report-1735718400000`. */
export function scheduledTaskId(entryId: string, dueAt: number): string {
  return `${PREFIX}${entryId}-${dueAt}`;
}

/** The entry id and due time of an id made by scheduledTaskId, or null for any other id. */
export function parseScheduledTaskId(taskId: string): { entryId: string; dueAt: number } | null {
  if (!taskId.startsWith(PREFIX)) return null;
  const dash = taskId.lastIndexOf("-");
  if (dash <= PREFIX.length) return null;
  const dueAt = Number(taskId.slice(dash + 1));
  if (!Number.isSafeInteger(dueAt) || taskId.slice(dash + 1) === "") return null;
  return { entryId: taskId.slice(PREFIX.length, dash), dueAt };
}
