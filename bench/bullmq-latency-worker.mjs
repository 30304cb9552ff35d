/**
 * BullMQ benchmark worker for idle latency (run under Node):
 * `node bench/bullmq-latency-worker.mjs REDIS_URL PREFIX EXPECTED`.
 * Records, per `stamp` job, the time from its enqueue stamp (data.t, epoch ms) to its
 * handler start; prints "done" after each job completes, and {"latencies"} at the end.
 */
import { Worker } from "bullmq";
import { QUEUE, bullConnection } from "./bullmq-connection.mjs";

const [url, prefix, expected] = process.argv.slice(2);
const latencies = [];
let finish;
const finished = new Promise((resolve) => (finish = resolve));

const worker = new Worker(
  QUEUE,
  async (job) => {
    latencies.push(performance.timeOrigin + performance.now() - job.data.t);
    return null;
  },
  { connection: bullConnection(url), prefix, concurrency: 10, autorun: false },
);
worker.on("completed", () => {
  process.stdout.write("done\n");
  if (latencies.length === Number(expected)) finish();
});
worker.on("error", (error) => process.stderr.write(`bullmq worker error: ${error.message}\n`));
await worker.waitUntilReady();
void worker.run();
process.stdout.write("ready\n");
await finished;
await worker.close();
process.stdout.write(`${JSON.stringify({ latencies })}\n`);
process.exit(0);
