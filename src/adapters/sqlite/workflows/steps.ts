/** Workflow checkpoints: one row per checkpoint name, ordered by position within a run. */
import type { WorkflowStepEntry } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";

interface StepRow {
  name: string;
  value: string;
  position: number;
  completed_at: number;
}

const SELECT_ONE = "SELECT value FROM stem_workflow_steps WHERE run_id = ? AND name = ?";

const SELECT_ALL = `
SELECT name, value, position, completed_at FROM stem_workflow_steps
WHERE run_id = ? ORDER BY position`;

/** A new name goes after the last position; an existing one keeps its place. */
const UPSERT = `
INSERT INTO stem_workflow_steps (run_id, name, position, value, completed_at)
VALUES ($runId, $name,
  (SELECT coalesce(max(position) + 1, 0) FROM stem_workflow_steps WHERE run_id = $runId),
  $value, $completedAt)
ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value, completed_at = excluded.completed_at`;

const DELETE_FROM = "DELETE FROM stem_workflow_steps WHERE run_id = ? AND position >= ?";

/** The checkpoint's value; undefined when there is none. */
export function readStep(db: SqliteDatabase, runId: string, name: string): unknown {
  const row = db.statement<{ value: string }, [string, string]>(SELECT_ONE).get(runId, name);
  return row ? JSON.parse(row.value) : undefined;
}

export function listSteps(db: SqliteDatabase, runId: string): WorkflowStepEntry[] {
  return db
    .statement<StepRow, [string]>(SELECT_ALL)
    .all(runId)
    .map((row) => ({
      name: row.name,
      value: JSON.parse(row.value),
      position: row.position,
      completedAt: row.completed_at,
    }));
}

export function upsertStep(
  db: SqliteDatabase,
  runId: string,
  name: string,
  value: unknown,
  completedAt: number,
): void {
  db.statement<unknown, [{ runId: string; name: string; value: string; completedAt: number }]>(
    UPSERT,
  ).run({
    runId,
    name,
    value: JSON.stringify(value === undefined ? null : value),
    completedAt,
  });
}

/** Deletes the checkpoints at `position` and after. */
export function deleteStepsFrom(db: SqliteDatabase, runId: string, position: number): void {
  db.statement<unknown, [string, number]>(DELETE_FROM).run(runId, position);
}
