import type postgres from "postgres";
import type { Queryable } from "../database.ts";

/** A job row leased by `claimJobs`. */
export interface ClaimedJob {
  id: string;
  queue: string;
  envelope: unknown;
  attempt: number;
  not_before: Date | null;
  receipt: string;
  lease_expires_at: Date;
  priority: number;
  seq: number;
  /** Deliveries so far, this one included. */
  deliveries: number;
  /** The row still carried a lease, which ran out unacked. */
  lease_lost: boolean;
}

/**
 * Leases up to `max` ready jobs in one statement (the `claim_jobs` function of
 * migration 7): rows that are not leased (or whose lease ran out, which counts as an
 * attempt) and are due, each lease counting a delivery, queues in the order given, higher priority first, then publish
 * order. Each queue is read along its (queue, priority, seq) index, whatever the table's
 * statistics say; SKIP LOCKED lets concurrent consumers take different rows without
 * waiting on each other. Each row's lease is its envelope's `visibilityTimeoutMs`, else
 * `leaseMs`. Returned in delivery order.
 */
export async function claimJobs(
  sql: Queryable,
  schema: string,
  queues: string[],
  options: { max: number; leaseMs: number; consumer: string },
): Promise<ClaimedJob[]> {
  const rows = await sql<ClaimedJob[]>`
    SELECT * FROM ${sql(schema)}.claim_jobs(
      ${queues}::text[], ${options.max}::integer, ${options.leaseMs}::double precision,
      ${options.consumer}::text)`;
  const order = new Map(queues.map((q, i) => [q, i]));
  return [...(rows as postgres.RowList<ClaimedJob[]>)].sort(
    (a, b) => order.get(a.queue)! - order.get(b.queue)! || b.priority - a.priority || a.seq - b.seq,
  );
}
