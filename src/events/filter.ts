/** Checking and applying a TaskEventFilter. */
import { StemError } from "../core/errors.ts";
import { TASK_EVENT_STATES, type TaskEvent, type TaskEventFilter } from "./types.ts";

/** A checked filter: each present set must contain the event's value. */
export interface EventMatcher {
  (event: TaskEvent): boolean;
  /** The task ids filtered on, when the filter names some (lets the hub look them up). */
  taskIds?: string[];
}

function listOf(value: string | string[] | undefined, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  for (const item of list) {
    if (typeof item !== "string" || item === "")
      throw new StemError(
        "invalid_argument",
        `task event filter: ${field} must be a non-empty string or a list of them, got ${JSON.stringify(item)}`,
      );
  }
  return list;
}

/** Checks `filter` (throws StemError naming a bad field or unknown state) and returns its matcher. */
export function eventMatcher(filter: TaskEventFilter = {}): EventMatcher {
  const queues = listOf(filter.queue, "queue");
  const names = listOf(filter.name, "name");
  const states = listOf(filter.state, "state");
  const taskIds = listOf(filter.taskId, "taskId");
  for (const state of states ?? []) {
    if (!(TASK_EVENT_STATES as readonly string[]).includes(state))
      throw new StemError(
        "invalid_argument",
        `task event filter: unknown state "${state}" (known: ${TASK_EVENT_STATES.join(", ")})`,
      );
  }
  const sets = {
    queue: queues && new Set(queues),
    name: names && new Set(names),
    state: states && new Set<string>(states),
    taskId: taskIds && new Set(taskIds),
  };
  const matcher: EventMatcher = (event) =>
    (!sets.queue || sets.queue.has(event.queue)) &&
    (!sets.name || sets.name.has(event.name)) &&
    (!sets.state || sets.state.has(event.state)) &&
    (!sets.taskId || sets.taskId.has(event.taskId));
  if (taskIds) matcher.taskIds = taskIds;
  return matcher;
}
