import type { DeadLetterQuery } from "../../contracts.ts";
import { type Queryable, table } from "../database.ts";
import { deadLetterFilter } from "./dead-letter-rows.ts";

/** Deletes dead letters matching `query` (oldest first when limited); returns how many. */
export async function purgeDeadLetters(
  sql: Queryable,
  schema: string,
  query: Omit<DeadLetterQuery, "offset">,
): Promise<number> {
  const dead = table(sql, schema, "dead_letters");
  const result = await sql`
    DELETE FROM ${dead} WHERE id IN (
      SELECT id FROM ${dead} WHERE ${deadLetterFilter(sql, query)}
      ORDER BY dead_at, seq LIMIT ${query.limit ?? null}::bigint
    )`;
  return result.count;
}
