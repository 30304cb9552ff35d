import { type Queryable, table } from "../database.ts";

/**
 * Takes up to `limit` suspended runs due at `now`, earliest first, in one statement:
 * each is hidden until `redeliverAt` and loses its event watcher (so a late event
 * cannot resume it as well). SKIP LOCKED lets concurrent sweeps take different runs
 * without waiting on each other; a run skipped because another transaction holds it is
 * left for the next sweep. Returns the ids taken.
 */
export async function takeDueWorkflowRuns(
  sql: Queryable,
  schema: string,
  now: number,
  limit: number,
  redeliverAt: number,
): Promise<string[]> {
  const runs = table(sql, schema, "workflow_runs");
  const rows = await sql<{ id: string }[]>`
    WITH picked AS (
      SELECT id, due_at FROM ${runs}
      WHERE status = 'suspended' AND due_at <= ${now}
      ORDER BY due_at, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), taken AS (
      UPDATE ${runs} AS r SET
        due_at = ${redeliverAt}, watch_step = NULL, watch_topic = NULL, watch_data = NULL,
        watch_created_at = NULL, watch_deadline = NULL
      FROM picked
      WHERE r.id = picked.id
      RETURNING r.id
    )
    SELECT picked.id FROM picked JOIN taken ON taken.id = picked.id
    ORDER BY picked.due_at, picked.id`;
  return rows.map((row) => row.id);
}
