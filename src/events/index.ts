/** Task events: the public types and the stream `client.events()` returns. */
export {
  TASK_EVENT_STATES,
  type TaskEvent,
  type TaskEventFilter,
  type TaskEventState,
} from "./types.ts";
export { TaskEventStream, type TaskEventStreamOptions } from "./stream.ts";
