import { type Queryable, table } from "../database.ts";

/**
 * Deletes up to `limit` finished runs last updated before `before`, oldest first (their
 * checkpoints go with them: ON DELETE CASCADE); returns how many.
 */
export async function pruneWorkflowRuns(
  sql: Queryable,
  schema: string,
  before: number,
  limit: number,
): Promise<number> {
  const runs = table(sql, schema, "workflow_runs");
  const rows = await sql`
    DELETE FROM ${runs} WHERE id IN (
      SELECT id FROM ${runs}
      WHERE status IN ('completed', 'failed', 'cancelled') AND updated_at < ${before}
      ORDER BY updated_at, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING id`;
  return rows.length;
}

/** How many finished runs were last updated before `before`. */
export async function countPrunableWorkflowRuns(
  sql: Queryable,
  schema: string,
  before: number,
): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM ${table(sql, schema, "workflow_runs")}
    WHERE status IN ('completed', 'failed', 'cancelled') AND updated_at < ${before}`;
  return row.n;
}
