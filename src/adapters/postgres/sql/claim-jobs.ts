import type postgres from "postgres";
import { type Queryable, table } from "../database.ts";

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
}

/**
 * Leases up to `max` ready jobs in one statement: rows that are not leased (or whose
 * lease ran out, which counts as an attempt) and are due, queues in the order given,
 * higher priority first, then publish order. Each queue is read along its
 * (queue, priority, seq) index; SKIP LOCKED lets concurrent consumers take different
 * rows without waiting on each other. Each row's lease is its
 * envelope's `visibilityTimeoutMs`, else `leaseMs`. Returned in delivery order.
 */
export async function claimJobs(
  sql: Queryable,
  schema: string,
  queues: string[],
  options: { max: number; leaseMs: number; consumer: string },
): Promise<ClaimedJob[]> {
  const jobs = table(sql, schema, "jobs");
  const rows = await sql<ClaimedJob[]>`
    WITH picked AS MATERIALIZED (
      SELECT c.id
      FROM unnest(${queues}::text[]) WITH ORDINALITY AS q(name, pos)
      CROSS JOIN LATERAL (
        SELECT id, priority, seq FROM ${jobs}
        WHERE queue = q.name
          AND (receipt IS NULL OR lease_expires_at <= now())
          AND (not_before IS NULL OR not_before <= now())
        ORDER BY priority DESC, seq
        LIMIT ${options.max}
        FOR UPDATE SKIP LOCKED
      ) c
      ORDER BY q.pos, c.priority DESC, c.seq
      LIMIT ${options.max}
    )
    UPDATE ${jobs} AS j SET
      attempt = j.attempt + CASE WHEN j.receipt IS NULL THEN 0 ELSE 1 END,
      receipt = gen_random_uuid()::text,
      consumer = ${options.consumer},
      lease_expires_at = now() + interval '1 millisecond' * coalesce(
        CASE WHEN jsonb_typeof(j.envelope -> 'visibilityTimeoutMs') = 'number'
          THEN (j.envelope ->> 'visibilityTimeoutMs')::double precision END,
        ${options.leaseMs}::double precision)
    FROM picked
    WHERE j.id = picked.id
    RETURNING j.id, j.queue, j.envelope, j.attempt, j.not_before, j.receipt,
      j.lease_expires_at, j.priority, j.seq::double precision AS seq`;
  const order = new Map(queues.map((q, i) => [q, i]));
  return [...(rows as postgres.RowList<ClaimedJob[]>)].sort(
    (a, b) => order.get(a.queue)! - order.get(b.queue)! || b.priority - a.priority || a.seq - b.seq,
  );
}
