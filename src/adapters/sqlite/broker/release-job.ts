/**
 * Nacking: puts a leased job back (optionally later, optionally counting the attempt) or
 * drops it. A release that does not count the attempt gives its delivery back too.
 */
import type { Delivery, NackOptions } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";

const REQUEUE = `
UPDATE stem_jobs
SET receipt = NULL, consumer = NULL, lease_expires_at = NULL,
    attempt = attempt + $countAttempt, deliveries = deliveries - 1 + $countAttempt,
    not_before = $notBefore
WHERE id = $id AND receipt = $receipt`;

const DROP = "DELETE FROM stem_jobs WHERE id = ? AND receipt = ?";

/** True when the job was released; false when the lease had already been lost. */
export function releaseJob(
  db: SqliteDatabase,
  delivery: Delivery,
  options: NackOptions,
  now: number,
): boolean {
  if (options.requeue === false) {
    const drop = db.statement<unknown, [string, string]>(DROP);
    return db.single(() => drop.run(delivery.envelope.id, delivery.receipt).changes > 0, true);
  }
  const requeue = db.statement<
    unknown,
    [{ countAttempt: number; notBefore: number | null; id: string; receipt: string }]
  >(REQUEUE);
  return db.single(
    () =>
      requeue.run({
        countAttempt: options.countAttempt === false ? 0 : 1,
        notBefore: options.delayMs ? now + options.delayMs : null,
        id: delivery.envelope.id,
        receipt: delivery.receipt,
      }).changes > 0,
    true,
  );
}
