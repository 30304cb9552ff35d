import type { DeadLetterPurge } from "../../contracts.ts";
import { type Queryable, table } from "../database.ts";
import { deadLetterFilter } from "./dead-letter-rows.ts";

/**
 * Deletes dead letters matching `query` (oldest first when limited); returns how many.
 * A dry run counts them instead.
 */
export async function purgeDeadLetters(
  sql: Queryable,
  schema: string,
  query: DeadLetterPurge,
): Promise<number> {
  const dead = table(sql, schema, "dead_letters");
  const matching = sql`
    SELECT id FROM ${dead} WHERE ${deadLetterFilter(sql, query)}
    ORDER BY dead_at, seq LIMIT ${query.limit ?? null}::bigint`;
  if (query.dryRun) {
    const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM (${matching}) AS m`;
    return n;
  }
  const result = await sql`DELETE FROM ${dead} WHERE id IN (${matching})`;
  return result.count;
}
