/** Turning stored job and dead-letter rows back into envelopes. */
import { type Envelope, validateEnvelope } from "../../../core/envelope.ts";
import { toMs } from "../database.ts";

/** The columns that override what the stored envelope JSON says. */
export interface JobState {
  id: string;
  queue: string;
  attempt: number;
  not_before: Date | null;
}

/**
 * The envelope a row holds, with the row's attempt count, notBefore and queue (the
 * columns are authoritative). Throws when the stored JSON is not an envelope.
 */
export function rowEnvelope(raw: unknown, row: JobState): Envelope {
  const envelope = validateEnvelope(raw);
  return {
    ...envelope,
    queue: row.queue,
    attempt: row.attempt,
    notBefore: toMs(row.not_before),
  };
}

/**
 * A dead letter's envelope. Rows dead-lettered as `undecodable` may not hold an
 * envelope at all; those are shown as a stand-in named `(undecodable)` with the row's
 * id and queue, the stored JSON under `meta["stem.undecodable"]`.
 */
export function deadLetterEnvelope(raw: unknown, id: string, queue: string): Envelope {
  try {
    return { ...validateEnvelope(raw), id, queue };
  } catch {
    const object =
      typeof raw === "object" && raw !== null && !Array.isArray(raw)
        ? (raw as Record<string, unknown>)
        : {};
    return {
      id,
      name: typeof object.name === "string" && object.name ? object.name : "(undecodable)",
      args: {},
      headers: {},
      queue,
      priority: 0,
      attempt: typeof object.attempt === "number" ? object.attempt : 0,
      maxRetries: 0,
      enqueuedAt: typeof object.enqueuedAt === "number" ? object.enqueuedAt : 0,
      meta: { "stem.undecodable": raw },
    };
  }
}
