/**
 * Workflow checkpoints: one row per checkpoint name, ordered by position within a run.
 * Writers hold the run's row lock, so positions are assigned one at a time.
 */
import type { WorkflowStepEntry } from "../../contracts.ts";
import { type Queryable, table } from "../database.ts";

const steps = (sql: Queryable, schema: string) => table(sql, schema, "workflow_steps");

/** The checkpoint's value; undefined when there is none. */
export async function readStep(
  sql: Queryable,
  schema: string,
  runId: string,
  name: string,
): Promise<unknown> {
  const [row] = await sql<{ value: unknown }[]>`
    SELECT value FROM ${steps(sql, schema)} WHERE run_id = ${runId} AND name = ${name}`;
  return row ? row.value : undefined;
}

/** A run's checkpoints in position order. */
export async function listSteps(
  sql: Queryable,
  schema: string,
  runId: string,
): Promise<WorkflowStepEntry[]> {
  const rows = await sql<
    { name: string; value: unknown; position: number; completed_at: number }[]
  >`
    SELECT name, value, position, completed_at FROM ${steps(sql, schema)}
    WHERE run_id = ${runId} ORDER BY position`;
  return rows.map((row) => ({
    name: row.name,
    value: row.value,
    position: row.position,
    completedAt: row.completed_at,
  }));
}

/** Saves a checkpoint: a new name goes after the last position, an existing one keeps its place. */
export async function upsertStep(
  sql: Queryable,
  schema: string,
  runId: string,
  name: string,
  value: unknown,
  completedAt: number,
): Promise<void> {
  const stepsTable = steps(sql, schema);
  await sql`
    INSERT INTO ${stepsTable} (run_id, name, position, value, completed_at)
    VALUES (${runId}, ${name},
      (SELECT coalesce(max(position) + 1, 0) FROM ${stepsTable} WHERE run_id = ${runId}),
      -- as text: a jsonb parameter would take a JSON null for SQL NULL
      ${JSON.stringify(value) ?? "null"}::text::jsonb, ${completedAt})
    ON CONFLICT (run_id, name) DO UPDATE
      SET value = excluded.value, completed_at = excluded.completed_at`;
}

/** Deletes the checkpoints at `position` and after. */
export async function deleteStepsFrom(
  sql: Queryable,
  schema: string,
  runId: string,
  position: number,
): Promise<void> {
  await sql`
    DELETE FROM ${steps(sql, schema)} WHERE run_id = ${runId} AND position >= ${position}`;
}
