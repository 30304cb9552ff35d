/** Event watchers of suspended runs: at most one per run, found by topic. */
import type { WorkflowWatcher } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";

interface WatcherRow {
  run_id: string;
  step_name: string;
  topic: string;
  data: string;
  created_at: number;
  deadline: number | null;
}

const UPSERT = `
INSERT INTO stem_workflow_watchers (run_id, step_name, topic, data, created_at, deadline)
VALUES ($runId, $stepName, $topic, $data, $createdAt, $deadline)
ON CONFLICT (run_id) DO UPDATE SET step_name = excluded.step_name, topic = excluded.topic,
  data = excluded.data, created_at = excluded.created_at, deadline = excluded.deadline`;

const BY_TOPIC = `
SELECT run_id, step_name, topic, data, created_at, deadline FROM stem_workflow_watchers
WHERE topic = ? ORDER BY created_at, run_id LIMIT ?`;

const DELETE_ONE = "DELETE FROM stem_workflow_watchers WHERE run_id = ?";

const parse = (row: WatcherRow): WorkflowWatcher => ({
  runId: row.run_id,
  stepName: row.step_name,
  topic: row.topic,
  data: JSON.parse(row.data),
  createdAt: row.created_at,
  deadline: row.deadline,
});

export function upsertWatcher(db: SqliteDatabase, watcher: WorkflowWatcher): void {
  db.statement<
    unknown,
    [
      {
        runId: string;
        stepName: string;
        topic: string;
        data: string;
        createdAt: number;
        deadline: number | null;
      },
    ]
  >(UPSERT).run({
    runId: watcher.runId,
    stepName: watcher.stepName,
    topic: watcher.topic,
    data: JSON.stringify(watcher.data),
    createdAt: watcher.createdAt,
    deadline: watcher.deadline,
  });
}

/** Oldest first, at most `limit`. */
export function watchersOf(db: SqliteDatabase, topic: string, limit: number): WorkflowWatcher[] {
  return db.statement<WatcherRow, [string, number]>(BY_TOPIC).all(topic, limit).map(parse);
}

export function deleteWatcher(db: SqliteDatabase, runId: string): void {
  db.statement<unknown, [string]>(DELETE_ONE).run(runId);
}
