/**
 * Workflow run rows: the run as JSON plus the columns its queries use (status, topic,
 * due time, lease). Writes happen inside the store's write transactions.
 */
import type { WorkflowRun, WorkflowRunQuery } from "../../contracts.ts";
import type { StoredRun } from "../../../workflow/run-transitions.ts";
import type { SqliteDatabase } from "../database.ts";

interface RunRow {
  run: string;
  due_at: number | null;
}

const SELECT_ONE = "SELECT run, due_at FROM stem_workflow_runs WHERE id = ?";

const INSERT = `
INSERT INTO stem_workflow_runs
  (id, workflow, status, wait_topic, due_at, owner_id, lease_expires_at, created_at, updated_at, run)
VALUES ($id, $workflow, $status, $waitTopic, $dueAt, $ownerId, $leaseExpiresAt, $createdAt, $updatedAt, $run)`;

const UPDATE = `
UPDATE stem_workflow_runs SET
  status = $status, wait_topic = $waitTopic, due_at = $dueAt, owner_id = $ownerId,
  lease_expires_at = $leaseExpiresAt, updated_at = $updatedAt, run = $run
WHERE id = $id`;

const LIST = `
SELECT run, due_at FROM stem_workflow_runs
WHERE ($workflow IS NULL OR workflow = $workflow) AND ($status IS NULL OR status = $status)
ORDER BY created_at DESC, id DESC
LIMIT $limit OFFSET $offset`;

const RUNNABLE = `
SELECT run, due_at FROM stem_workflow_runs
WHERE status = 'running' AND (owner_id IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= $now)
ORDER BY updated_at ASC, id ASC
LIMIT $limit OFFSET $offset`;

const DUE = `
SELECT id FROM stem_workflow_runs
WHERE due_at IS NOT NULL AND due_at <= $now AND status = 'suspended'
ORDER BY due_at ASC, id ASC
LIMIT $limit`;

const WAITING_ON = `
SELECT id FROM stem_workflow_runs
WHERE wait_topic = ? AND status = 'suspended'
ORDER BY updated_at ASC, id ASC`;

const FINISHED_BEFORE = `
SELECT id FROM stem_workflow_runs
WHERE status IN ('completed', 'failed', 'cancelled') AND updated_at < $before
ORDER BY updated_at, id
LIMIT $limit`;

const DELETE_RUNS = `DELETE FROM stem_workflow_runs WHERE id IN (SELECT value FROM json_each(?))`;
const DELETE_STEPS = `DELETE FROM stem_workflow_steps WHERE run_id IN (SELECT value FROM json_each(?))`;
const DELETE_WATCHERS = `DELETE FROM stem_workflow_watchers WHERE run_id IN (SELECT value FROM json_each(?))`;

type RunParams = {
  id: string;
  workflow: string;
  status: string;
  waitTopic: string | null;
  dueAt: number | null;
  ownerId: string | null;
  leaseExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
  run: string;
};

const parse = (row: RunRow): StoredRun => ({
  run: JSON.parse(row.run) as WorkflowRun,
  dueAt: row.due_at,
});

function params({ run, dueAt }: StoredRun): RunParams {
  return {
    id: run.id,
    workflow: run.workflow,
    status: run.status,
    waitTopic: run.waitTopic,
    dueAt,
    ownerId: run.ownerId,
    leaseExpiresAt: run.leaseExpiresAt,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    run: JSON.stringify(run),
  };
}

export function readRun(db: SqliteDatabase, id: string): StoredRun | null {
  const row = db.statement<RunRow, [string]>(SELECT_ONE).get(id);
  return row ? parse(row) : null;
}

/** Inserts a new run; false when the id is taken. */
export function insertRun(db: SqliteDatabase, stored: StoredRun): boolean {
  if (db.statement<RunRow, [string]>(SELECT_ONE).get(stored.run.id)) return false;
  db.statement<unknown, [RunParams]>(INSERT).run(params(stored));
  return true;
}

export function writeRun(db: SqliteDatabase, stored: StoredRun): void {
  const { workflow: _w, createdAt: _c, ...update } = params(stored);
  db.statement<unknown, [Omit<RunParams, "workflow" | "createdAt">]>(UPDATE).run(update);
}

export function listRuns(
  db: SqliteDatabase,
  query: WorkflowRunQuery & { limit: number; offset: number },
): WorkflowRun[] {
  return db
    .statement<
      RunRow,
      [{ workflow: string | null; status: string | null; limit: number; offset: number }]
    >(LIST)
    .all({
      workflow: query.workflow ?? null,
      status: query.status ?? null,
      limit: query.limit,
      offset: query.offset,
    })
    .map((row) => parse(row).run);
}

export function listRunnableRuns(
  db: SqliteDatabase,
  now: number,
  limit: number,
  offset: number,
): WorkflowRun[] {
  return db
    .statement<RunRow, [{ now: number; limit: number; offset: number }]>(RUNNABLE)
    .all({ now, limit, offset })
    .map((row) => parse(row).run);
}

export function dueRunIds(db: SqliteDatabase, now: number, limit: number): string[] {
  return db
    .statement<{ id: string }, [{ now: number; limit: number }]>(DUE)
    .all({ now, limit })
    .map((row) => row.id);
}

export function runsWaitingOn(db: SqliteDatabase, topic: string): string[] {
  return db
    .statement<{ id: string }, [string]>(WAITING_ON)
    .all(topic)
    .map((row) => row.id);
}

/** Ids of finished runs last updated before `before`, oldest first; `limit` -1 for all. */
export function finishedRunIds(db: SqliteDatabase, before: number, limit: number): string[] {
  return db
    .statement<{ id: string }, [{ before: number; limit: number }]>(FINISHED_BEFORE)
    .all({ before, limit })
    .map((row) => row.id);
}

/** Deletes runs with their checkpoints and watchers. */
export function deleteRuns(db: SqliteDatabase, ids: string[]): void {
  const list = JSON.stringify(ids);
  for (const sql of [DELETE_STEPS, DELETE_WATCHERS, DELETE_RUNS])
    db.statement<unknown, [string]>(sql).run(list);
}
