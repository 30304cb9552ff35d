/** Dead-letter helpers shared by adapters that filter in process (memory, and fallbacks). */
import type { DeadLetter, DeadLetterQuery } from "./contracts.ts";
import { type Envelope, MetaKeys } from "../core/envelope.ts";

/** Filters by queue, since and before, orders by deadAt, then applies offset and limit. */
export function selectDeadLetters(
  all: DeadLetter[],
  query: DeadLetterQuery & { ids?: string[] },
  order: "newest" | "oldest",
): DeadLetter[] {
  const ids = query.ids ? new Set(query.ids) : undefined;
  const picked = all
    .filter(
      (d) =>
        (query.queue === undefined || d.queue === query.queue) &&
        (query.since === undefined || d.deadAt >= query.since) &&
        (query.before === undefined || d.deadAt < query.before) &&
        (ids === undefined || ids.has(d.envelope.id)),
    )
    .sort((a, b) => (order === "newest" ? b.deadAt - a.deadAt : a.deadAt - b.deadAt));
  const offset = query.offset ?? 0;
  return picked.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
}

/** The envelope a replay publishes: attempts reset, replay count bumped, optional delay. */
export function replayedEnvelope(entry: DeadLetter, now: number, delayMs?: number): Envelope {
  const replays = Number(entry.envelope.meta[MetaKeys.replayCount] ?? 0);
  return {
    ...entry.envelope,
    attempt: 0,
    notBefore: delayMs ? now + delayMs : undefined,
    meta: { ...entry.envelope.meta, [MetaKeys.replayCount]: replays + 1 },
  };
}
