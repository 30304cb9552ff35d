/**
 * graphile-worker benchmark worker (run under Node):
 * `node bench/graphile-drain-worker.mjs POSTGRES_URL SCHEMA VARIANT CONCURRENCY EXPECTED CAP_MS`.
 * One runner (see graphile-options.mjs for the variants). graphile-worker deletes a job
 * once it completed: it keeps no results. Prints "ready", then {"ms", "done", "capped"}
 * from the first handler start until the jobs table holds none of the EXPECTED jobs (or
 * CAP_MS passed).
 */
import { run } from "graphile-worker";
import { runnerOptions } from "./graphile-options.mjs";
import { drainTimer } from "./peer-drain.mjs";

const [url, schema, variant, concurrency, expected, capMs] = process.argv.slice(2);
const target = Number(expected);
const timer = drainTimer(
  url,
  target,
  Number(capMs),
  (sql) => sql`SELECT ${target} - count(*) AS n FROM ${sql(`${schema}._private_jobs`)}`,
);
const runner = await run(
  runnerOptions(url, schema, variant, Number(concurrency), {
    noop: async () => {
      timer.started();
    },
  }),
);
process.stdout.write("ready\n");
const result = await timer.result();
await runner.stop();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
