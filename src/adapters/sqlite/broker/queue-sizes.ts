/**
 * Per-queue job totals without a write per enqueue (migration 11). stem_queue_sizes counts
 * the jobs up to the fold mark (`stem_queue_size_fold.folded_seq`; delete and move
 * triggers keep it right for those); jobs above the mark are counted from their rows, a
 * rowid range. Publishers give each job a seq above the mark (so a drained table that
 * restarts its rowids is still counted) and fold the newer jobs into the totals once
 * {@link FOLD_EVERY} have piled up, so a count never reads more than about that many rows.
 */
import type { SqliteDatabase } from "../database.ts";

/** Jobs published above the fold mark before a publisher folds them into the totals. */
export const FOLD_EVERY = 1000;

const SEQ_STATE = `
SELECT max(coalesce((SELECT max(seq) FROM stem_jobs), 0), folded_seq) + 1 AS next,
  folded_seq AS folded
FROM stem_queue_size_fold`;

// The jobs above the mark are read by rowid range (seq is the rowid). NOT INDEXED keeps the
// planner, which has no statistics (no ANALYZE), from counting the whole queue on its index.

/** A queue's total: its folded count plus its jobs above the mark. */
export const QUEUE_TOTAL = `
coalesce((SELECT jobs FROM stem_queue_sizes WHERE queue = $queue), 0)
+ (SELECT count(*) FROM stem_jobs NOT INDEXED
    WHERE seq > (SELECT folded_seq FROM stem_queue_size_fold) AND queue = $queue)`;

export const ADD_UNFOLDED = `
INSERT INTO stem_queue_sizes (queue, jobs)
SELECT queue, count(*) FROM stem_jobs NOT INDEXED
WHERE seq > (SELECT folded_seq FROM stem_queue_size_fold)
GROUP BY queue
ON CONFLICT (queue) DO UPDATE SET jobs = jobs + excluded.jobs`;

const MOVE_MARK = `
UPDATE stem_queue_size_fold
SET folded_seq = max(folded_seq, coalesce((SELECT max(seq) FROM stem_jobs), 0))`;

/**
 * The seq for the next job (above every job and above the fold mark) and the mark. Read
 * inside the write transaction that publishes: nobody else writes until it commits, so
 * its jobs take `next`, `next + 1`, ...
 */
export function seqState(db: SqliteDatabase): { next: number; folded: number } {
  return db.statement<{ next: number; folded: number }>(SEQ_STATE).get() ?? { next: 1, folded: 0 };
}

/**
 * Folds the jobs above the mark (`folded`, from {@link seqState}) into the totals when
 * `lastSeq` (the newest seq this transaction published) is {@link FOLD_EVERY} or more
 * above it. Call inside the write transaction that published.
 */
export function foldQueueSizesIfDue(db: SqliteDatabase, lastSeq: number, folded: number): void {
  if (lastSeq - folded < FOLD_EVERY) return;
  db.statement(ADD_UNFOLDED).run();
  db.statement(MOVE_MARK).run();
}
