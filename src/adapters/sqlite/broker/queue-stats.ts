/**
 * Queue depths: pending, in-flight, delayed and dead counts per queue, from one snapshot.
 * The job total comes from stem_queue_sizes plus the few jobs not yet folded into it
 * (queue-sizes.ts), in-flight and delayed counts from their indexes, so a queue of a
 * million pending jobs costs no more to count than an empty one.
 */
import type { QueueStats } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";
import { QUEUE_TOTAL } from "./queue-sizes.ts";

const KNOWN_QUEUES = `
SELECT name FROM stem_queues
UNION SELECT DISTINCT queue FROM stem_dead_letters
ORDER BY 1`;

// Delayed = due later and not leased. Counted as every job due later (the index alone)
// minus the leased ones due later (only in-flight rows are read), not by reading every
// delayed row to look at its lease.
const COUNT_JOBS = `
SELECT
  ${QUEUE_TOTAL} AS total,
  (SELECT count(*) FROM stem_jobs INDEXED BY stem_jobs_leased
    WHERE queue = $queue AND lease_expires_at > $now) AS inflight,
  (SELECT count(*) FROM stem_jobs INDEXED BY stem_jobs_delayed
    WHERE queue = $queue AND not_before > $now)
  - (SELECT count(*) FROM stem_jobs INDEXED BY stem_jobs_leased
    WHERE queue = $queue AND lease_expires_at > $now AND not_before > $now) AS delayed`;

const COUNT_DEAD = "SELECT count(*) AS dead FROM stem_dead_letters WHERE queue = ?";

export function queueStats(
  db: SqliteDatabase,
  queues: string[] | undefined,
  now: number,
): QueueStats[] {
  const known = db.statement<{ name: string }>(KNOWN_QUEUES);
  const countJobs = db.statement<
    { total: number; inflight: number; delayed: number },
    [{ queue: string; now: number }]
  >(COUNT_JOBS);
  const countDead = db.statement<{ dead: number }, [string]>(COUNT_DEAD);
  return db.read(() =>
    (queues ?? known.all().map((row) => row.name)).map((queue) => {
      const jobs = countJobs.get({ queue, now }) ?? { total: 0, inflight: 0, delayed: 0 };
      return {
        queue,
        pending: jobs.total - jobs.inflight - jobs.delayed,
        inflight: jobs.inflight,
        delayed: jobs.delayed,
        dead: countDead.get(queue)?.dead ?? 0,
      };
    }),
  );
}
