/**
 * Benchmark worker process for latency: runs `bench.stamp` tasks and reports, per task,
 * the time from its enqueue stamp (args.t, epoch ms with fractions) to its handler start.
 * Prints "ready", then "done" after each task has finished (result stored and acked), and
 * finally {"latencies"}.
 */
import { defineTask, signals, StemClient } from "../src/index.ts";

const [url, expected] = process.argv.slice(2);
const latencies: number[] = [];
let finish!: () => void;
const finished = new Promise<void>((r) => (finish = r));
const stamp = defineTask<{ t: number }>({
  name: "bench.stamp",
  run: (_ctx, { t }) => {
    latencies.push(performance.timeOrigin + performance.now() - t);
    return null;
  },
});
signals.taskPostrun.connect(() => {
  process.stdout.write("done\n");
  if (latencies.length === Number(expected)) finish();
});
const client = await StemClient.fromUrl(url, { tasks: [stamp] });
const worker = client.createWorker({ concurrency: 10 });
await worker.start();
process.stdout.write("ready\n");
await finished;
await worker.shutdown();
process.stdout.write(`${JSON.stringify({ latencies })}\n`);
await client.close();
process.exit(0);
