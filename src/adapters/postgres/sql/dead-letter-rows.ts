/** Selecting dead letters by the filters the Broker contract takes. */
import type postgres from "postgres";
import type { DeadLetter, DeadLetterQuery } from "../../contracts.ts";
import { type Queryable, table } from "../database.ts";
import { deadLetterEnvelope } from "./job-rows.ts";

export interface DeadLetterRow {
  id: string;
  queue: string;
  envelope: unknown;
  reason: string;
  meta: Record<string, unknown>;
  dead_at: Date;
}

export function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    envelope: deadLetterEnvelope(row.envelope, row.id, row.queue),
    queue: row.queue,
    reason: row.reason,
    meta: row.meta ?? {},
    deadAt: row.dead_at.getTime(),
  };
}

/** Filter on queue, since, before and ids; null parameters mean "any". */
export function deadLetterFilter(
  sql: Queryable,
  query: DeadLetterQuery & { ids?: string[] },
): postgres.PendingQuery<postgres.Row[]> {
  return sql`
    (${query.queue ?? null}::text IS NULL OR queue = ${query.queue ?? null}::text)
    AND (${query.since === undefined ? null : new Date(query.since)}::timestamptz IS NULL
      OR dead_at >= ${query.since === undefined ? null : new Date(query.since)}::timestamptz)
    AND (${query.before === undefined ? null : new Date(query.before)}::timestamptz IS NULL
      OR dead_at < ${query.before === undefined ? null : new Date(query.before)}::timestamptz)
    AND (${query.ids ?? null}::text[] IS NULL OR id = ANY(${query.ids ?? null}::text[]))`;
}

/**
 * Dead letters matching `query`, newest or oldest first, offset and limit applied.
 * `lock` takes row locks (inside a transaction) so concurrent replays skip each other's.
 */
export async function selectDeadLetters(
  sql: Queryable,
  schema: string,
  query: DeadLetterQuery & { ids?: string[] },
  order: "newest" | "oldest",
  lock = false,
): Promise<DeadLetterRow[]> {
  const direction = order === "newest" ? sql`DESC` : sql`ASC`;
  return sql<DeadLetterRow[]>`
    SELECT id, queue, envelope, reason, meta, dead_at
    FROM ${table(sql, schema, "dead_letters")}
    WHERE ${deadLetterFilter(sql, query)}
    ORDER BY dead_at ${direction}, seq ${direction}
    LIMIT ${query.limit ?? null}::bigint OFFSET ${query.offset ?? 0}::bigint
    ${lock ? sql`FOR UPDATE SKIP LOCKED` : sql``}`;
}
