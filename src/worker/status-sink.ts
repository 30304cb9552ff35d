import type { Delivery } from "../adapters/contracts.ts";
import type { Envelope } from "../core/envelope.ts";
import { resultIgnored } from "../core/ignore-result.ts";
import type { TaskStatus } from "../core/states.ts";
import type { Completions } from "./completions.ts";

/** Where the runner sends a task's statuses: the batched writer, or nowhere. */
export type StatusSink = Pick<Completions, "note" | "write" | "finish">;

/**
 * The sink for one task's statuses. A task enqueued with `ignoreResult` stores none: its
 * statuses are only announced as task events and its final ack goes out alone (still
 * batched), while retries and dead letters happen as for any task. Its outcome is still
 * counted in the task counters.
 */
export function statusSinkFor(envelope: Envelope, completions: Completions): StatusSink {
  if (!resultIgnored(envelope)) return completions;
  return {
    note: (status) => completions.announce(status),
    write: async (status) => completions.announce(status),
    finish: async (status: TaskStatus, delivery: Delivery) => {
      completions.announce(status);
      await completions.ack(delivery);
      completions.count(status);
    },
  };
}
