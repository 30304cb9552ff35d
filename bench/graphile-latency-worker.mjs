/**
 * graphile-worker benchmark worker for idle latency (run under Node):
 * `node bench/graphile-latency-worker.mjs POSTGRES_URL SCHEMA VARIANT`.
 * Concurrency 10, like Stem's latency worker. Records, per `stamp` job, the time from its
 * enqueue stamp (payload.t, epoch ms) to its handler start; prints "done" after each job,
 * and {"latencies"} after
 * "stop" on stdin.
 */
import { createInterface } from "node:readline";
import { run } from "graphile-worker";
import { runnerOptions } from "./graphile-options.mjs";

const [url, schema, variant] = process.argv.slice(2);
const latencies = [];
const runner = await run(
  runnerOptions(url, schema, variant, 10, {
    stamp: async (payload) => {
      latencies.push(performance.timeOrigin + performance.now() - payload.t);
    },
  }),
);
// Fired when the handler returned (its completion is written right after, or batched).
runner.events.on("job:complete", () => process.stdout.write("done\n"));
process.stdout.write("ready\n");
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "stop") break;
}
await runner.stop();
process.stdout.write(`${JSON.stringify({ latencies })}\n`);
process.exit(0);
