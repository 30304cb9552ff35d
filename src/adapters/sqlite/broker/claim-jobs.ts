/**
 * Fetching: leases ready jobs inside one BEGIN IMMEDIATE transaction, so two processes
 * never lease the same job. A job whose earlier lease ran out is a redelivery and counts
 * an attempt; every lease counts a delivery. A row that is not a valid envelope is moved
 * to the dead letters.
 */

import { decodeEnvelope, type Envelope } from "../../../core/envelope.ts";
import type { Delivery } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";
import { deleteJob, insertDeadLetter } from "./dead-letter-job.ts";

/** The most of an undecodable row's text kept in its dead letter's meta. */
const RAW_TEXT_LIMIT = 64 * 1024;

const READY = `
queue = $queue
AND (not_before IS NULL OR not_before <= $now)
AND (lease_expires_at IS NULL OR lease_expires_at <= $now)`;

const HAS_READY = `SELECT 1 AS ready FROM stem_jobs WHERE ${READY} LIMIT 1`;

const SELECT_READY = `
SELECT seq, id, queue, priority, attempt, deliveries, not_before, envelope, lease_expires_at
FROM stem_jobs WHERE ${READY}
ORDER BY priority DESC, seq ASC
LIMIT $limit`;

const LEASE_JOB = `
UPDATE stem_jobs
SET receipt = $receipt, consumer = $consumer, lease_expires_at = $leaseExpiresAt, attempt = $attempt,
    deliveries = deliveries + 1
WHERE seq = $seq`;

/** When the next delayed job or lease of a queue comes due (both read from their indexes). */
const NEXT_DUE = `
SELECT min(
  coalesce((SELECT min(not_before) FROM stem_jobs INDEXED BY stem_jobs_delayed
    WHERE queue = $queue AND not_before > $now), 9e15),
  coalesce((SELECT min(lease_expires_at) FROM stem_jobs INDEXED BY stem_jobs_leased
    WHERE queue = $queue AND lease_expires_at > $now), 9e15)) AS due`;

interface ReadyRow {
  seq: number;
  id: string;
  queue: string;
  priority: number;
  attempt: number;
  deliveries: number;
  not_before: number | null;
  envelope: string;
  lease_expires_at: number | null;
}

export interface ClaimOptions {
  max: number;
  leaseMs: number;
  consumer: string;
}

/** True when any of `queues` has a job ready now. Reads only: no write lock. */
export function hasReadyJob(db: SqliteDatabase, queues: string[], now: number): boolean {
  const statement = db.statement<{ ready: number }, [{ queue: string; now: number }]>(HAS_READY);
  return db.single(() => queues.some((queue) => statement.get({ queue, now }) !== null));
}

/**
 * The earliest time (epoch ms) after `now` when a job of `queues` becomes ready without a
 * new write: a delayed job comes due or a lease runs out. Null when none will.
 */
export function nextDueAt(db: SqliteDatabase, queues: string[], now: number): number | null {
  const statement = db.statement<{ due: number }, [{ queue: string; now: number }]>(NEXT_DUE);
  const due = db.read(() =>
    Math.min(...queues.map((queue) => statement.get({ queue, now })?.due ?? 9e15)),
  );
  return due >= 9e15 ? null : due;
}

/** Leases up to `max` ready jobs, queues in the order given, priority then FIFO within each. */
export function claimJobs(
  db: SqliteDatabase,
  queues: string[],
  options: ClaimOptions,
  now: number,
): Delivery[] {
  const select = db.statement<ReadyRow, [{ queue: string; now: number; limit: number }]>(
    SELECT_READY,
  );
  const lease = db.statement<
    unknown,
    [{ receipt: string; consumer: string; leaseExpiresAt: number; attempt: number; seq: number }]
  >(LEASE_JOB);
  return db.write(() => {
    const out: Delivery[] = [];
    for (const queue of queues) {
      for (;;) {
        const want = options.max - out.length;
        if (want <= 0) return out;
        const rows = select.all({ queue, now, limit: want });
        let skipped = 0;
        for (const row of rows) {
          let stored: Envelope;
          try {
            stored = decodeEnvelope(row.envelope);
          } catch (error) {
            moveUndecodable(db, row, (error as Error).message, now);
            skipped++;
            continue;
          }
          // Selected as ready while still carrying a lease: that lease ran out unacked.
          const leaseLost = row.lease_expires_at !== null;
          const attempt = leaseLost ? row.attempt + 1 : row.attempt;
          const receipt = crypto.randomUUID();
          const leaseExpiresAt = now + (stored.visibilityTimeoutMs ?? options.leaseMs);
          lease.run({ receipt, consumer: options.consumer, leaseExpiresAt, attempt, seq: row.seq });
          out.push({
            envelope: { ...stored, attempt, notBefore: row.not_before ?? undefined },
            receipt,
            queue: row.queue,
            leaseExpiresAt,
            deliveries: row.deliveries + 1,
            afterLeaseLoss: leaseLost,
          });
        }
        // Only undecodable rows can leave room while more ready rows remain.
        if (skipped === 0 || rows.length < want) break;
      }
    }
    return out;
  });
}

/** Dead-letters a row that is not a valid envelope, keeping its text for inspection. */
function moveUndecodable(db: SqliteDatabase, row: ReadyRow, error: string, now: number): void {
  deleteJob(db, row.seq);
  const envelope: Envelope = {
    id: row.id,
    name: "(undecodable)",
    args: {},
    headers: {},
    queue: row.queue,
    priority: row.priority,
    attempt: row.attempt,
    maxRetries: 0,
    enqueuedAt: now,
    meta: {},
  };
  insertDeadLetter(db, {
    envelope,
    queue: row.queue,
    reason: "undecodable",
    meta: { error, raw: row.envelope.slice(0, RAW_TEXT_LIMIT) },
    deadAt: now,
  });
}
