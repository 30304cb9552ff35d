/**
 * BullMQ benchmark worker (run under Node):
 * `node bench/bullmq-drain-worker.mjs REDIS_URL PREFIX CONCURRENCY EXPECTED`.
 * One worker with default job retention (completed jobs are kept, like Stem's results).
 * Prints "ready", then {"ms"} from the first handler start to the EXPECTED-th completion.
 */
import { Worker } from "bullmq";
import { QUEUE, bullConnection } from "./bullmq-connection.mjs";

const [url, prefix, concurrency, expected] = process.argv.slice(2);
const target = Number(expected);
let first = 0;
let done = 0;
let finish;
const finished = new Promise((resolve) => (finish = resolve));

const worker = new Worker(
  QUEUE,
  async () => {
    if (first === 0) first = performance.now();
    return null;
  },
  { connection: bullConnection(url), prefix, concurrency: Number(concurrency), autorun: false },
);
worker.on("completed", () => {
  if (++done === target) finish();
});
worker.on("error", (error) => process.stderr.write(`bullmq worker error: ${error.message}\n`));
await worker.waitUntilReady();
void worker.run();
process.stdout.write("ready\n");
await finished;
const ms = performance.now() - first;
await worker.close();
process.stdout.write(`${JSON.stringify({ ms })}\n`);
process.exit(0);
