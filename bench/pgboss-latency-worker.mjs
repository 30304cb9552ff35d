/**
 * pg-boss benchmark worker for idle latency (run under Node):
 * `node bench/pgboss-latency-worker.mjs POSTGRES_URL SCHEMA VARIANT`.
 * Concurrency 10 (ten `work()` calls), like Stem's latency worker. Records, per `stamp`
 * job, the time from its enqueue stamp (data.t, epoch ms) to its handler start; prints
 * "done" after each job, and {"latencies"} after
 * "stop" on stdin.
 */
import { createInterface } from "node:readline";
import { addWorkers, startBoss } from "./pgboss-options.mjs";

const [url, schema, variant] = process.argv.slice(2);
const latencies = [];
const boss = await startBoss(url, schema);
await addWorkers(boss, variant, 10, async (job) => {
  latencies.push(performance.timeOrigin + performance.now() - job.data.t);
  // After this handler's turn ends; pg-boss writes the completion without waiting.
  setImmediate(() => process.stdout.write("done\n"));
});
process.stdout.write("ready\n");
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "stop") break;
}
await boss.stop({ graceful: false, wait: true });
process.stdout.write(`${JSON.stringify({ latencies })}\n`);
process.exit(0);
