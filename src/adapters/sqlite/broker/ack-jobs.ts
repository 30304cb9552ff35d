/** Acking: deletes finished jobs in one transaction, only where the lease is still the one handed out. */
import type { Delivery } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";

const DELETE_LEASED = "DELETE FROM stem_jobs WHERE id = ? AND receipt = ?";

export function ackJobs(db: SqliteDatabase, deliveries: Delivery[]): void {
  if (deliveries.length === 0) return;
  const remove = db.statement<unknown, [string, string]>(DELETE_LEASED);
  db.write(() => {
    for (const delivery of deliveries) remove.run(delivery.envelope.id, delivery.receipt);
  });
}
