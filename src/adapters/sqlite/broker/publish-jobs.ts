/**
 * Publishing: one INSERT per envelope inside one write transaction (with the tasks'
 * statuses, for the producer); known ids are refused.
 */

import { clampPriority, type Envelope, encodeEnvelope } from "../../../core/envelope.ts";
import type { TaskStatus } from "../../../core/states.ts";
import { checkStatusesStorable } from "../../../core/storable.ts";
import type { PublishResult } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";
import { writeStatuses } from "../results/statuses.ts";
import { foldQueueSizesIfDue, NEXT_SEQ } from "./queue-sizes.ts";

const INSERT_JOB = `
INSERT INTO stem_jobs (seq, id, queue, priority, not_before, attempt, envelope)
SELECT ${NEXT_SEQ}, $id, $queue, $priority, $notBefore, $attempt, $envelope
WHERE true
ON CONFLICT (id) DO NOTHING`;

const REMEMBER_QUEUE = "INSERT INTO stem_queues (name) VALUES (?) ON CONFLICT (name) DO NOTHING";

type JobParams = [
  {
    id: string;
    queue: string;
    priority: number;
    notBefore: number | null;
    attempt: number;
    envelope: string;
  },
];

/**
 * Stores one envelope as a ready (or delayed) job; false when its id is already queued,
 * delayed or in flight. Call inside a write transaction.
 */
export function insertJob(db: SqliteDatabase, envelope: Envelope): boolean {
  const seq = insertRow(db, envelope);
  if (seq > 0) foldQueueSizesIfDue(db, seq);
  return seq > 0;
}

/** The new job's seq, or 0 when its id is already taken. */
function insertRow(db: SqliteDatabase, envelope: Envelope): number {
  const { changes, lastInsertRowid } = db.statement<unknown, JobParams>(INSERT_JOB).run({
    id: envelope.id,
    queue: envelope.queue,
    priority: clampPriority(envelope.priority),
    notBefore: envelope.notBefore ?? null,
    attempt: envelope.attempt,
    envelope: encodeEnvelope(envelope),
  });
  if (changes === 0) return 0;
  db.statement<unknown, [string]>(REMEMBER_QUEUE).run(envelope.queue);
  return Number(lastInsertRowid);
}

/** Stores many envelopes in one transaction, reporting duplicates instead of failing. */
export function publishJobs(db: SqliteDatabase, envelopes: Envelope[]): PublishResult {
  return db.write(() => insertJobs(db, envelopes));
}

/** Stores envelopes, reporting duplicates. Call inside a write transaction. */
export function insertJobs(db: SqliteDatabase, envelopes: Envelope[]): PublishResult {
  const result: PublishResult = { accepted: [], duplicates: [] };
  let lastSeq = 0;
  for (const envelope of envelopes) {
    const seq = insertRow(db, envelope);
    if (seq > 0) lastSeq = seq;
    (seq > 0 ? result.accepted : result.duplicates).push(envelope.id);
  }
  if (lastSeq > 0) foldQueueSizesIfDue(db, lastSeq);
  return result;
}

/**
 * Stores statuses, then publishes envelopes, in one write transaction: a job is never
 * visible to workers before its status (so a worker's later status is never overwritten
 * by it), and nothing is published when storing fails. One commit per enqueue, not two.
 */
export function publishJobsWithStatuses(
  db: SqliteDatabase,
  statuses: TaskStatus[],
  expiresAt: number,
  envelopes: Envelope[],
): PublishResult {
  checkStatusesStorable(statuses);
  return db.write(() => {
    writeStatuses(db, statuses, expiresAt);
    return insertJobs(db, envelopes);
  });
}
