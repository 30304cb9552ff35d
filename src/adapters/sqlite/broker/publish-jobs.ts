/** Publishing: one INSERT per envelope inside one write transaction; known ids are refused. */
import type { PublishResult } from "../../contracts.ts";
import { clampPriority, type Envelope, encodeEnvelope } from "../../../core/envelope.ts";
import type { SqliteDatabase } from "../database.ts";

const INSERT_JOB = `
INSERT INTO stem_jobs (id, queue, priority, not_before, attempt, envelope)
VALUES ($id, $queue, $priority, $notBefore, $attempt, $envelope)
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
  const { changes } = db.statement<unknown, JobParams>(INSERT_JOB).run({
    id: envelope.id,
    queue: envelope.queue,
    priority: clampPriority(envelope.priority),
    notBefore: envelope.notBefore ?? null,
    attempt: envelope.attempt,
    envelope: encodeEnvelope(envelope),
  });
  if (changes > 0) db.statement<unknown, [string]>(REMEMBER_QUEUE).run(envelope.queue);
  return changes > 0;
}

/** Stores many envelopes in one transaction, reporting duplicates instead of failing. */
export function publishJobs(db: SqliteDatabase, envelopes: Envelope[]): PublishResult {
  return db.write(() => {
    const result: PublishResult = { accepted: [], duplicates: [] };
    for (const envelope of envelopes) {
      (insertJob(db, envelope) ? result.accepted : result.duplicates).push(envelope.id);
    }
    return result;
  });
}
