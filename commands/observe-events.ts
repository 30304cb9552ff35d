/** `stem observe events`: tails task lifecycle events until Ctrl-C. */
import { defineCommand } from "citty";
import { eventMatcher } from "../src/events/filter.ts";
import {
  TASK_EVENT_STATES,
  type TaskEvent,
  type TaskEventFilter,
  type TaskEventState,
} from "../src/events/types.ts";
import { redactUrl } from "../src/adapters/url.ts";
import { startupSignals } from "./startup-signals.ts";
import { note, out, repeatedFlag, storeArgs, withClient } from "./shared.ts";
import { withExamples } from "./output/help.ts";

/** One event as a line for people: time, state, task, then what else it carries. */
export function eventLine(event: TaskEvent): string {
  const extras = [`queue=${event.queue}`, `attempt=${event.attempt}`];
  if (event.workerId) extras.push(`worker=${event.workerId}`);
  if (event.progress) extras.push(`progress=${event.progress.percent}%`);
  if (event.nextRetryAt) extras.push(`next=${new Date(event.nextRetryAt).toISOString()}`);
  if (event.reason) extras.push(`reason=${JSON.stringify(event.reason)}`);
  if (event.error) extras.push(`error=${JSON.stringify(event.error)}`);
  const at = new Date(event.at).toISOString();
  return `${at}  ${event.state.padEnd(13)}  ${event.name}  ${event.taskId}  ${extras.join(" ")}\n`;
}

export const eventsCommand = defineCommand({
  meta: {
    name: "events",
    description:
      "Tail task events (queued, started, progress, retried, succeeded, failed, dead-lettered, revoked) from every worker and producer until Ctrl-C; best effort: events sent while not listening are not shown",
  },
  args: {
    ...storeArgs,
    queue: {
      type: "string",
      alias: "q",
      description: "Only these queues (repeat or comma-separate)",
    },
    task: { type: "string", description: "Only these task names (repeat or comma-separate)" },
    state: {
      type: "string",
      description: `Only these states (repeat or comma-separate): ${TASK_EVENT_STATES.join(", ")}`,
    },
    json: { type: "boolean", description: "One JSON object per event per line" },
  },
  run: ({ args, rawArgs }) => {
    const list = (name: string, short?: string) => {
      const values = repeatedFlag(rawArgs, name, short);
      return values.length > 0 ? values : undefined;
    };
    const filter: TaskEventFilter = {
      queue: list("queue", "q"),
      name: list("task"),
      state: list("state") as TaskEventState[] | undefined,
    };
    // A bad filter is a usage error (exit 2), reported before any store is opened.
    eventMatcher(filter);
    return withClient(args, async (client) => {
      const stream = client.events(filter);
      startupSignals.release();
      const stop = () => void stream.close();
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      try {
        await stream.ready;
        // On stderr, so a pipe of --json lines stays clean.
        note(
          `listening for task events on ${redactUrl(client.config.backendUrl)} (Ctrl-C to stop)\n`,
        );
        for await (const event of stream) {
          out(args.json ? `${JSON.stringify(event)}\n` : eventLine(event));
        }
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        await stream.close();
      }
    });
  },
});

withExamples(eventsCommand, [
  "stem observe events",
  "stem observe events --queue emails --state failed,dead-lettered",
  "stem observe events --task orders.charge --json | jq .state",
]);
