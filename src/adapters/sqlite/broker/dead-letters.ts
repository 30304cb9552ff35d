/** Reading, replaying and purging dead letters. */
import type {
  DeadLetter,
  DeadLetterPurge,
  DeadLetterQuery,
  ReplayOptions,
  ReplayResult,
} from "../../contracts.ts";
import type { Envelope } from "../../../core/envelope.ts";
import { replayedEnvelope } from "../../dead-letters.ts";
import type { SqliteDatabase } from "../database.ts";
import { insertJob } from "./publish-jobs.ts";

const MATCHING = `
($queue IS NULL OR queue = $queue)
AND ($since IS NULL OR dead_at >= $since)
AND ($before IS NULL OR dead_at < $before)
AND ($ids IS NULL OR id IN (SELECT value FROM json_each($ids)))`;

const SELECT_NEWEST = `
SELECT seq, queue, envelope, reason, meta, dead_at FROM stem_dead_letters
WHERE ${MATCHING}
ORDER BY dead_at DESC, seq DESC LIMIT $limit OFFSET $offset`;

const SELECT_OLDEST = `
SELECT seq, queue, envelope, reason, meta, dead_at FROM stem_dead_letters
WHERE ${MATCHING}
ORDER BY dead_at ASC, seq ASC LIMIT $limit OFFSET $offset`;

const COUNT = `
SELECT count(*) AS n FROM (
  SELECT 1 FROM stem_dead_letters WHERE ${MATCHING} LIMIT $limit OFFSET $offset
)`;

const SELECT_ONE =
  "SELECT seq, queue, envelope, reason, meta, dead_at FROM stem_dead_letters WHERE id = ?";

const DELETE_ONE = "DELETE FROM stem_dead_letters WHERE seq = ?";

const PURGE = `
DELETE FROM stem_dead_letters WHERE seq IN (
  SELECT seq FROM stem_dead_letters WHERE ${MATCHING}
  ORDER BY dead_at ASC, seq ASC LIMIT $limit OFFSET $offset
)`;

interface DeadLetterRow {
  seq: number;
  queue: string;
  envelope: string;
  reason: string;
  meta: string;
  dead_at: number;
}

type QueryParams = [
  {
    queue: string | null;
    since: number | null;
    before: number | null;
    ids: string | null;
    limit: number;
    offset: number;
  },
];

function params(query: DeadLetterQuery & { ids?: string[] }): QueryParams[0] {
  return {
    queue: query.queue ?? null,
    since: query.since ?? null,
    before: query.before ?? null,
    ids: query.ids ? JSON.stringify(query.ids) : null,
    limit: query.limit ?? -1,
    offset: query.offset ?? 0,
  };
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    envelope: JSON.parse(row.envelope) as Envelope,
    queue: row.queue,
    reason: row.reason,
    meta: JSON.parse(row.meta) as Record<string, unknown>,
    deadAt: row.dead_at,
  };
}

/** Newest first. */
export function listDeadLetters(db: SqliteDatabase, query: DeadLetterQuery): DeadLetter[] {
  const select = db.statement<DeadLetterRow, QueryParams>(SELECT_NEWEST);
  return db.single(() => select.all(params(query)).map(toDeadLetter));
}

export function getDeadLetter(db: SqliteDatabase, id: string): DeadLetter | null {
  const select = db.statement<DeadLetterRow, [string]>(SELECT_ONE);
  const row = db.single(() => select.get(id));
  return row ? toDeadLetter(row) : null;
}

/**
 * Re-publishes matching dead letters, oldest first, and removes those published, in one
 * transaction. An entry whose id is queued again is not published and stays (skipped).
 */
export function replayDeadLetters(
  db: SqliteDatabase,
  options: ReplayOptions,
  now: number,
): ReplayResult {
  const select = db.statement<DeadLetterRow, QueryParams>(SELECT_OLDEST);
  if (options.dryRun) {
    return {
      dryRun: true,
      entries: db.single(() => select.all(params(options)).map(toDeadLetter)),
      skipped: [],
    };
  }
  const remove = db.statement<unknown, [number]>(DELETE_ONE);
  return db.write(() => {
    const result: ReplayResult = { dryRun: false, entries: [], skipped: [] };
    for (const row of select.all(params(options))) {
      const entry = toDeadLetter(row);
      if (insertJob(db, replayedEnvelope(entry, now, options.delayMs))) {
        remove.run(row.seq);
        result.entries.push(entry);
      } else {
        result.skipped.push(entry);
      }
    }
    return result;
  });
}

/** Deletes matching dead letters, oldest first up to `limit`; returns how many (would go, on a dry run). */
export function purgeDeadLetters(db: SqliteDatabase, query: DeadLetterPurge): number {
  if (query.dryRun) {
    const count = db.statement<{ n: number }, QueryParams>(COUNT);
    return db.single(() => count.get(params(query))?.n ?? 0);
  }
  const purge = db.statement<unknown, QueryParams>(PURGE);
  return db.write(() => purge.run(params(query)).changes);
}
