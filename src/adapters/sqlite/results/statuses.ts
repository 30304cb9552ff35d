/** Task statuses: whole-record upserts with an expiry; expired rows read as missing. */

import type { TaskState, TaskStatus } from "../../../core/states.ts";
import { checkStatusesStorable } from "../../../core/storable.ts";
import { appendTimeline, type TimelineEntry, withoutTimeline } from "../../../core/timeline.ts";
import type { TaskStatusQuery } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";

const UPSERT = `
INSERT INTO stem_task_statuses (id, name, queue, state, updated_at, status, timeline, expires_at)
VALUES ($id, $name, $queue, $state, $updatedAt, $status, $timeline, $expiresAt)
ON CONFLICT (id) DO UPDATE SET
  name = excluded.name, queue = excluded.queue, state = excluded.state,
  updated_at = excluded.updated_at, status = excluded.status, timeline = excluded.timeline,
  expires_at = excluded.expires_at`;

const SELECT_TIMELINE =
  "SELECT timeline FROM stem_task_statuses WHERE id = ? AND expires_at > ? AND timeline IS NOT NULL";

const SELECT_LIVE = `
SELECT id, status, timeline FROM stem_task_statuses
WHERE id IN (SELECT value FROM json_each(?)) AND expires_at > ?`;

const SELECT_LIVE_STATES = `
SELECT id, state FROM stem_task_statuses
WHERE id IN (SELECT value FROM json_each(?)) AND expires_at > ?`;

const LIST = `
SELECT status FROM stem_task_statuses
WHERE expires_at > $now
  AND ($state IS NULL OR state = $state)
  AND ($queue IS NULL OR queue = $queue)
  AND ($name IS NULL OR name = $name)
  AND ($since IS NULL OR updated_at >= $since)
  AND ($until IS NULL OR updated_at <= $until)
ORDER BY updated_at DESC
LIMIT $limit OFFSET $offset`;

const EXPIRE = "UPDATE stem_task_statuses SET expires_at = ? WHERE id = ? AND expires_at > ?";

/** How many statuses `list` returns when no limit is given. */
export const DEFAULT_LIST_LIMIT = 50;

type UpsertParams = [
  {
    id: string;
    name: string;
    queue: string;
    state: string;
    updatedAt: number;
    status: string;
    timeline: string | null;
    expiresAt: number;
  },
];

export function setStatuses(db: SqliteDatabase, statuses: TaskStatus[], expiresAt: number): void {
  if (statuses.length === 0) return;
  checkStatusesStorable(statuses);
  db.write(() => writeStatuses(db, statuses, expiresAt));
}

/**
 * Upserts statuses, appending each one's timeline entries to the stored ones. Call inside
 * a write transaction, after `checkStatusesStorable`.
 */
export function writeStatuses(db: SqliteDatabase, statuses: TaskStatus[], expiresAt: number): void {
  const upsert = db.statement<unknown, UpsertParams>(UPSERT);
  const kept = db.statement<{ timeline: string }, [string, number]>(SELECT_TIMELINE);
  const now = db.now();
  for (const status of statuses) {
    // Read inside the write transaction: the append is atomic, and costs no round trip.
    const stored = kept.get(status.id, now)?.timeline;
    const timeline = appendTimeline(
      stored ? (JSON.parse(stored) as TimelineEntry[]) : [],
      status.timeline,
    );
    upsert.run({
      id: status.id,
      name: status.name,
      queue: status.queue,
      state: status.state,
      updatedAt: status.updatedAt,
      status: JSON.stringify(withoutTimeline(status)),
      timeline: timeline.length > 0 ? JSON.stringify(timeline) : null,
      expiresAt,
    });
  }
}

/** The states of the live statuses among `ids`, by id. Call inside a transaction. */
export function liveStates(db: SqliteDatabase, ids: string[]): Map<string, TaskState> {
  const select = db.statement<{ id: string; state: TaskState }, [string, number]>(
    SELECT_LIVE_STATES,
  );
  return new Map(select.all(JSON.stringify(ids), db.now()).map((row) => [row.id, row.state]));
}

/** Live statuses for `ids`, in the order asked, null where missing or expired. */
export function getStatuses(db: SqliteDatabase, ids: string[], now: number): (TaskStatus | null)[] {
  if (ids.length === 0) return [];
  const select = db.statement<
    { id: string; status: string; timeline: string | null },
    [string, number]
  >(SELECT_LIVE);
  const rows = db.single(() => select.all(JSON.stringify(ids), now));
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => {
    const row = byId.get(id);
    if (row === undefined) return null;
    const status = JSON.parse(row.status) as TaskStatus;
    if (row.timeline !== null) status.timeline = JSON.parse(row.timeline) as TimelineEntry[];
    return status;
  });
}

export function listStatuses(
  db: SqliteDatabase,
  query: TaskStatusQuery,
  now: number,
): TaskStatus[] {
  const list = db.statement<
    { status: string },
    [
      {
        now: number;
        state: string | null;
        queue: string | null;
        name: string | null;
        since: number | null;
        until: number | null;
        limit: number;
        offset: number;
      },
    ]
  >(LIST);
  const rows = db.single(() =>
    list.all({
      now,
      state: query.state ?? null,
      queue: query.queue ?? null,
      name: query.name ?? null,
      since: query.updatedSince ?? null,
      until: query.updatedUntil ?? null,
      limit: query.limit ?? DEFAULT_LIST_LIMIT,
      offset: query.offset ?? 0,
    }),
  );
  return rows.map((row) => JSON.parse(row.status) as TaskStatus);
}

/** Resets a live status's expiry. */
export function expireStatus(db: SqliteDatabase, id: string, expiresAt: number, now: number): void {
  const expire = db.statement<unknown, [number, string, number]>(EXPIRE);
  db.single(() => expire.run(expiresAt, id, now), true);
}
