/**
 * Publishing: one INSERT per envelope inside a write transaction (publish-batch.ts runs
 * them, with the producer's statuses); known ids are refused.
 */
import { clampPriority, type Envelope, encodeEnvelope } from "../../../core/envelope.ts";
import type { PublishResult } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";
import { foldQueueSizesIfDue, seqState } from "./queue-sizes.ts";

const INSERT_JOB = `
INSERT INTO stem_jobs (seq, id, queue, priority, not_before, attempt, envelope)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`;

const REMEMBER_QUEUE = "INSERT INTO stem_queues (name) VALUES (?) ON CONFLICT (name) DO NOTHING";

type JobParams = [number, string, string, number, number | null, number, string];

/**
 * Stores one envelope as a ready (or delayed) job; false when its id is already queued,
 * delayed or in flight. Call inside a write transaction.
 */
export function insertJob(db: SqliteDatabase, envelope: Envelope): boolean {
  return insertJobs(db, [envelope]).accepted.length > 0;
}

/**
 * Stores envelopes (with their JSON from `encoded` when given), reporting duplicates. Call
 * inside a write transaction: seqs are read once and counted up (see queue-sizes.ts), each
 * queue is remembered once.
 */
export function insertJobs(
  db: SqliteDatabase,
  envelopes: Envelope[],
  encoded?: readonly string[],
): PublishResult {
  const insert = db.statement<unknown, JobParams>(INSERT_JOB);
  const result: PublishResult = { accepted: [], duplicates: [] };
  const queues = new Set<string>();
  const seqs = seqState(db);
  let seq = seqs.next;
  for (let i = 0; i < envelopes.length; i++) {
    const envelope = envelopes[i];
    const { changes } = insert.run(
      seq,
      envelope.id,
      envelope.queue,
      clampPriority(envelope.priority),
      envelope.notBefore ?? null,
      envelope.attempt,
      encoded?.[i] ?? encodeEnvelope(envelope),
    );
    if (changes === 0) {
      result.duplicates.push(envelope.id);
      continue;
    }
    result.accepted.push(envelope.id);
    queues.add(envelope.queue);
    seq++;
  }
  const remember = db.statement<unknown, [string]>(REMEMBER_QUEUE);
  for (const queue of queues) remember.run(queue);
  if (seq > seqs.next) foldQueueSizesIfDue(db, seq - 1, seqs.folded);
  return result;
}
