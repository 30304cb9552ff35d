/**
 * Scale-out benchmark worker: `bun bench/scale-worker.ts URL QUEUES CONCURRENCY PREFETCH`
 * (QUEUES comma-separated). Prints "ready" once its worker runs, then works until a line
 * arrives on stdin, and ends with one JSON line: how many tasks it ran, the epoch ms of
 * its first start and last end (comparable across processes), and its peak RSS.
 */
import { defineTask, StemClient, signals } from "../src/index.ts";

const [url, queues, concurrency, prefetch] = process.argv.slice(2);
let done = 0;
let first = 0;
let last = 0;
let peakRss = process.memoryUsage().rss;

const noop = defineTask({
  name: "bench.noop",
  run: () => {
    if (first === 0) first = Date.now();
    return null;
  },
});
const client = await StemClient.fromUrl(url, { tasks: [noop] });
signals.taskPostrun.connect(() => {
  done++;
  last = Date.now();
});
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
const worker = client.createWorker({
  queues: queues.split(","),
  concurrency: Number(concurrency),
  prefetch: Number(prefetch),
});
await worker.start();
process.stdout.write("ready\n");
for await (const _ of console) break;
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
await worker.shutdown();
process.stdout.write(`${JSON.stringify({ done, first, last, peakRssMb: peakRss / 2 ** 20 })}\n`);
await client.close();
process.exit(0);
