/** Moving a leased job to the dead letters, and the dead-letter INSERT it shares with fetch. */
import type { DeadLetter, Delivery } from "../../contracts.ts";
import { decodeEnvelope, encodeEnvelope } from "../../../core/envelope.ts";
import type { SqliteDatabase } from "../database.ts";

const INSERT_DEAD_LETTER = `
INSERT OR REPLACE INTO stem_dead_letters (id, queue, envelope, reason, meta, dead_at)
VALUES ($id, $queue, $envelope, $reason, $meta, $deadAt)`;

const SELECT_LEASED = `
SELECT seq, envelope, attempt, not_before FROM stem_jobs WHERE id = ? AND receipt = ?`;

const DELETE_JOB = "DELETE FROM stem_jobs WHERE seq = ?";

type DeadLetterParams = [
  { id: string; queue: string; envelope: string; reason: string; meta: string; deadAt: number },
];

/** Records a dead letter (replacing an older one with the same id). Call inside a write transaction. */
export function insertDeadLetter(db: SqliteDatabase, entry: DeadLetter): void {
  db.statement<unknown, DeadLetterParams>(INSERT_DEAD_LETTER).run({
    id: entry.envelope.id,
    queue: entry.queue,
    envelope: encodeEnvelope(entry.envelope),
    reason: entry.reason,
    meta: JSON.stringify(entry.meta),
    deadAt: entry.deadAt,
  });
}

/** Deletes a job by its row number. Call inside a write transaction. */
export function deleteJob(db: SqliteDatabase, seq: number): void {
  db.statement<unknown, [number]>(DELETE_JOB).run(seq);
}

/** Moves a delivery's job to the dead letters; a no-op when its lease was lost. */
export function deadLetterJob(
  db: SqliteDatabase,
  delivery: Delivery,
  reason: string,
  meta: Record<string, unknown>,
): void {
  db.write(() => {
    const row = db
      .statement<
        { seq: number; envelope: string; attempt: number; not_before: number | null },
        [string, string]
      >(SELECT_LEASED)
      .get(delivery.envelope.id, delivery.receipt);
    if (!row) return;
    deleteJob(db, row.seq);
    const envelope = {
      ...decodeEnvelope(row.envelope),
      attempt: row.attempt,
      notBefore: row.not_before ?? undefined,
    };
    insertDeadLetter(db, { envelope, queue: delivery.queue, reason, meta, deadAt: db.now() });
  });
}
