/** Queue depths: pending, in-flight, delayed and dead counts per queue, from one snapshot. */
import type { QueueStats } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";

const KNOWN_QUEUES = `
SELECT name FROM stem_queues
UNION SELECT DISTINCT queue FROM stem_dead_letters
ORDER BY 1`;

const COUNT_JOBS = `
SELECT
  count(*) AS total,
  coalesce(sum(CASE WHEN lease_expires_at > $now THEN 1 ELSE 0 END), 0) AS inflight,
  coalesce(sum(CASE WHEN (lease_expires_at IS NULL OR lease_expires_at <= $now)
                     AND not_before > $now THEN 1 ELSE 0 END), 0) AS delayed
FROM stem_jobs WHERE queue = $queue`;

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
