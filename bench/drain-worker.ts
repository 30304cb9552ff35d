/**
 * Benchmark worker process: `bun bench/drain-worker.ts URL CONCURRENCY EXPECTED [PREFETCH]`
 * (prefetch default: twice the concurrency, at least 20).
 * Starts a worker, waits until EXPECTED tasks have run, prints {"ms": elapsed} from the
 * first task start to the last task end, then exits.
 */
import { defineTask, signals, StemClient } from "../src/index.ts";

const [url, concurrency, expected, prefetch] = process.argv.slice(2);
const target = Number(expected);
let done = 0;
let first = 0;
let finish!: () => void;
const finished = new Promise<void>((r) => (finish = r));

const noop = defineTask({
  name: "bench.noop",
  run: () => {
    if (first === 0) first = performance.now();
    return null;
  },
});
const client = await StemClient.fromUrl(url, { tasks: [noop] });
signals.taskPostrun.connect(() => {
  if (++done === target) finish();
});
const worker = client.createWorker({
  concurrency: Number(concurrency),
  prefetch: prefetch ? Number(prefetch) : Math.max(Number(concurrency) * 2, 20),
});
await worker.start();
process.stdout.write("ready\n");
await finished;
const ms = performance.now() - first;
await worker.shutdown();
process.stdout.write(`${JSON.stringify({ ms })}\n`);
await client.close();
process.exit(0);
