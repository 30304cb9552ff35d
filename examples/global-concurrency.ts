/**
 * Global concurrency: at most N of a task running at once across every worker on the
 * store (BullMQ's global concurrency, Oban's global limit). Two workers with four slots
 * each share a limit of 2: the rest of the backlog waits in the broker, not in a worker,
 * and costs no attempt. Runs in memory; with a store URL as the first argument it runs
 * there instead (start more `stem worker` processes on that store and they share the limit).
 *
 *   bun examples/global-concurrency.ts [sqlite:///tmp/stem-example.db]
 */
import { defineTask, StemApp } from "../src/index.ts";

let running = 0;
let peak = 0;
const render = defineTask<{ report: number }>({
  name: "reports.render",
  // A licence server that takes two renders at a time, whichever worker asks.
  options: { globalConcurrency: 2 },
  run: async (_ctx, { report }) => {
    peak = Math.max(peak, ++running);
    await Bun.sleep(100);
    running--;
    return `report ${report} rendered`;
  },
});

const url = process.argv[2];
const options = { tasks: [render] };
const app = url ? await StemApp.fromUrl(url, options) : await StemApp.inMemory(options);
// A second worker on the same store, as another process would be.
await app.createWorker({ concurrency: 4, workerId: "second" }).start();

const ids = await app.stem.enqueueMany(
  Array.from({ length: 8 }, (_, report) => ({ name: "reports.render", args: { report } })),
);
await Bun.sleep(50);
const usage = await app.concurrencySlots.usage("task:reports.render");
console.log(`slots in use while the backlog drains: ${usage?.used} of ${usage?.limit}`);
for (const id of ids) console.log((await app.waitForTask(id)).value);
console.log(`at most ${peak} renders ran at once`);

await app.close();
