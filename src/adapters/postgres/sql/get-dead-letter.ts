import type { DeadLetter } from "../../contracts.ts";
import { type Queryable, table } from "../database.ts";
import { type DeadLetterRow, toDeadLetter } from "./dead-letter-rows.ts";

/** One dead letter by envelope id, or null. */
export async function getDeadLetter(
  sql: Queryable,
  schema: string,
  id: string,
): Promise<DeadLetter | null> {
  const [row] = await sql<DeadLetterRow[]>`
    SELECT id, queue, envelope, reason, meta, dead_at
    FROM ${table(sql, schema, "dead_letters")} WHERE id = ${id}`;
  return row ? toDeadLetter(row) : null;
}
