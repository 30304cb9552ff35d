/**
 * Workflow run rows: the run as jsonb, the columns its queries use (status, wait topic,
 * due time, lease, times), and the run's event watcher, kept in the same row so that
 * one row lock covers a run and its watcher. Times are epoch ms from the store's clock.
 */
import type { WorkflowRun, WorkflowRunQuery, WorkflowWatcher } from "../../contracts.ts";
import type { StoredRun } from "../../../workflow/run-transitions.ts";
import { type Queryable, json, table } from "../database.ts";

/** A run row as the store works on it: the run, its due time, its watcher. */
export interface RunRecord {
  stored: StoredRun;
  watcher: WorkflowWatcher | null;
}

interface RunRow {
  run: WorkflowRun;
  due_at: number | null;
  watch_step: string | null;
  watch_topic: string | null;
  watch_data: Record<string, unknown> | null;
  watch_created_at: number | null;
  watch_deadline: number | null;
}

const runs = (sql: Queryable, schema: string) => table(sql, schema, "workflow_runs");

const RECORD_COLUMNS = (sql: Queryable) =>
  sql`run, due_at, watch_step, watch_topic, watch_data, watch_created_at, watch_deadline`;

function toRecord(row: RunRow): RunRecord {
  return {
    stored: { run: row.run, dueAt: row.due_at },
    watcher:
      row.watch_topic === null
        ? null
        : {
            runId: row.run.id,
            stepName: row.watch_step!,
            topic: row.watch_topic,
            data: row.watch_data ?? {},
            createdAt: row.watch_created_at!,
            deadline: row.watch_deadline,
          },
  };
}

/** A run's row, locked until the transaction ends; null when there is no such run. */
export async function lockRun(
  sql: Queryable,
  schema: string,
  id: string,
): Promise<RunRecord | null> {
  const [row] = await sql<RunRow[]>`
    SELECT ${RECORD_COLUMNS(sql)} FROM ${runs(sql, schema)} WHERE id = ${id} FOR UPDATE`;
  return row ? toRecord(row) : null;
}

/**
 * The runs with a watcher on `topic`, oldest watcher first, locked until the transaction
 * ends. Waits for rows another transaction holds, then skips those that lost their
 * watcher meanwhile (the limit counts only rows returned), so concurrent callers take
 * successive watchers and never the same one.
 */
export async function lockWatchedRuns(
  sql: Queryable,
  schema: string,
  topic: string,
  limit: number,
): Promise<RunRecord[]> {
  const rows = await sql<RunRow[]>`
    SELECT ${RECORD_COLUMNS(sql)} FROM ${runs(sql, schema)}
    WHERE watch_topic = ${topic}
    ORDER BY watch_created_at, id
    LIMIT ${limit}
    FOR UPDATE`;
  return rows.map(toRecord);
}

/** Inserts a new run; false when the id is taken. */
export async function insertRun(
  sql: Queryable,
  schema: string,
  { run, dueAt }: StoredRun,
): Promise<boolean> {
  const rows = await sql`
    INSERT INTO ${runs(sql, schema)}
      (id, workflow, status, wait_topic, due_at, owner_id, lease_expires_at, created_at,
       updated_at, run)
    VALUES (${run.id}, ${run.workflow}, ${run.status}, ${run.waitTopic}, ${dueAt},
      ${run.ownerId}, ${run.leaseExpiresAt}, ${run.createdAt}, ${run.updatedAt},
      ${json(sql, run)})
    ON CONFLICT (id) DO NOTHING
    RETURNING id`;
  return rows.length > 0;
}

/** Writes changed runs (and their watchers) back, in one statement. */
export async function writeRuns(
  sql: Queryable,
  schema: string,
  records: RunRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const values = records.map(({ stored: { run, dueAt }, watcher }) => ({
    id: run.id,
    status: run.status,
    wait_topic: run.waitTopic,
    due_at: dueAt,
    owner_id: run.ownerId,
    lease_expires_at: run.leaseExpiresAt,
    updated_at: run.updatedAt,
    run,
    watch_step: watcher?.stepName ?? null,
    watch_topic: watcher?.topic ?? null,
    watch_data: watcher?.data ?? null,
    watch_created_at: watcher?.createdAt ?? null,
    watch_deadline: watcher?.deadline ?? null,
  }));
  await sql`
    UPDATE ${runs(sql, schema)} AS r SET
      status = v.status, wait_topic = v.wait_topic, due_at = v.due_at, owner_id = v.owner_id,
      lease_expires_at = v.lease_expires_at, updated_at = v.updated_at, run = v.run,
      watch_step = v.watch_step, watch_topic = v.watch_topic, watch_data = v.watch_data,
      watch_created_at = v.watch_created_at, watch_deadline = v.watch_deadline
    FROM jsonb_to_recordset(${json(sql, values)}) AS v(
      id text, status text, wait_topic text, due_at double precision, owner_id text,
      lease_expires_at double precision, updated_at double precision, run jsonb,
      watch_step text, watch_topic text, watch_data jsonb, watch_created_at double precision,
      watch_deadline double precision)
    WHERE r.id = v.id`;
}

/** One run, or null. */
export async function readRun(
  sql: Queryable,
  schema: string,
  id: string,
): Promise<WorkflowRun | null> {
  const [row] = await sql<{ run: WorkflowRun }[]>`
    SELECT run FROM ${runs(sql, schema)} WHERE id = ${id}`;
  return row?.run ?? null;
}

/** Newest first, optionally of one workflow and/or in one status. */
export async function listRuns(
  sql: Queryable,
  schema: string,
  query: WorkflowRunQuery & { limit: number; offset: number },
): Promise<WorkflowRun[]> {
  const rows = await sql<{ run: WorkflowRun }[]>`
    SELECT run FROM ${runs(sql, schema)}
    WHERE true
      ${query.workflow !== undefined ? sql`AND workflow = ${query.workflow}` : sql``}
      ${query.status !== undefined ? sql`AND status = ${query.status}` : sql``}
    ORDER BY created_at DESC, id DESC
    LIMIT ${query.limit} OFFSET ${query.offset}`;
  return rows.map((row) => row.run);
}

/** Running runs without a live lease at `now`, oldest update first. */
export async function listRunnableRuns(
  sql: Queryable,
  schema: string,
  now: number,
  limit: number,
  offset: number,
): Promise<WorkflowRun[]> {
  const rows = await sql<{ run: WorkflowRun }[]>`
    SELECT run FROM ${runs(sql, schema)}
    WHERE status = 'running'
      AND (owner_id IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= ${now})
    ORDER BY updated_at, id
    LIMIT ${limit} OFFSET ${offset}`;
  return rows.map((row) => row.run);
}

/** Ids of suspended runs waiting on `topic`, oldest update first. */
export async function runsWaitingOn(
  sql: Queryable,
  schema: string,
  topic: string,
): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    SELECT id FROM ${runs(sql, schema)}
    WHERE status = 'suspended' AND wait_topic = ${topic}
    ORDER BY updated_at, id`;
  return rows.map((row) => row.id);
}

/** The watchers of `topic`, oldest first. */
export async function listWatchers(
  sql: Queryable,
  schema: string,
  topic: string,
): Promise<WorkflowWatcher[]> {
  const rows = await sql<RunRow[]>`
    SELECT ${RECORD_COLUMNS(sql)} FROM ${runs(sql, schema)}
    WHERE watch_topic = ${topic}
    ORDER BY watch_created_at, id`;
  return rows.map((row) => toRecord(row).watcher!);
}
