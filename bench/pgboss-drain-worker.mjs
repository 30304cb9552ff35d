/**
 * pg-boss benchmark worker (run under Node):
 * `node bench/pgboss-drain-worker.mjs POSTGRES_URL SCHEMA VARIANT CONCURRENCY EXPECTED CAP_MS`.
 * CONCURRENCY polling workers (see pgboss-options.mjs for the variants) with default job
 * retention: completed jobs stay in the job table with their output, like Stem's
 * results. Prints "ready", then {"ms", "done", "capped"} from the first handler start
 * until EXPECTED jobs are completed (or CAP_MS passed).
 */
import { QUEUE, addWorkers, startBoss } from "./pgboss-options.mjs";
import { drainTimer } from "./peer-drain.mjs";

const [url, schema, variant, concurrency, expected, capMs] = process.argv.slice(2);
const timer = drainTimer(
  url,
  Number(expected),
  Number(capMs),
  (sql) =>
    sql`SELECT count(*) AS n FROM ${sql(`${schema}.job`)} WHERE name = ${QUEUE} AND state = 'completed'`,
);
const boss = await startBoss(url, schema);
await addWorkers(boss, variant, Number(concurrency), async () => {
  timer.started();
  return null;
});
process.stdout.write("ready\n");
const result = await timer.result();
await boss.stop({ graceful: false, wait: true });
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
