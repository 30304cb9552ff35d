/** Extending a lease: only a live lease with a matching receipt is pushed out. */
import type { Delivery } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";

const EXTEND = `
UPDATE stem_jobs SET lease_expires_at = $until
WHERE id = $id AND receipt = $receipt AND lease_expires_at > $now`;

export function extendLease(
  db: SqliteDatabase,
  delivery: Delivery,
  ms: number,
  now: number,
): boolean {
  const extend = db.statement<
    unknown,
    [{ until: number; id: string; receipt: string; now: number }]
  >(EXTEND);
  return db.single(
    () =>
      extend.run({ until: now + ms, id: delivery.envelope.id, receipt: delivery.receipt, now })
        .changes > 0,
    true,
  );
}
