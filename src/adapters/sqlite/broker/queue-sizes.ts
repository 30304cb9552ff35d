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

/** The next seq: above every job and above the fold mark. */
export const NEXT_SEQ =
  "max(coalesce((SELECT max(seq) FROM stem_jobs), 0), (SELECT folded_seq FROM stem_queue_size_fold)) + 1";

/** A queue's total: its folded count plus its jobs above the mark. */
export const QUEUE_TOTAL = `
coalesce((SELECT jobs FROM stem_queue_sizes WHERE queue = $queue), 0)
+ (SELECT count(*) FROM stem_jobs
    WHERE seq > (SELECT folded_seq FROM stem_queue_size_fold) AND queue = $queue)`;

const FOLDED_SEQ = "SELECT folded_seq AS seq FROM stem_queue_size_fold";

const ADD_UNFOLDED = `
INSERT INTO stem_queue_sizes (queue, jobs)
SELECT queue, count(*) FROM stem_jobs
WHERE seq > (SELECT folded_seq FROM stem_queue_size_fold)
GROUP BY queue
ON CONFLICT (queue) DO UPDATE SET jobs = jobs + excluded.jobs`;

const MOVE_MARK = `
UPDATE stem_queue_size_fold
SET folded_seq = max(folded_seq, coalesce((SELECT max(seq) FROM stem_jobs), 0))`;

/**
 * Folds the jobs above the mark into the totals when `lastSeq` (the newest seq this
 * transaction published) is {@link FOLD_EVERY} or more above it. Call inside the write
 * transaction that published.
 */
export function foldQueueSizesIfDue(db: SqliteDatabase, lastSeq: number): void {
  const folded = db.statement<{ seq: number }>(FOLDED_SEQ).get()?.seq ?? 0;
  if (lastSeq - folded < FOLD_EVERY) return;
  db.statement(ADD_UNFOLDED).run();
  db.statement(MOVE_MARK).run();
}
