/**
 * Results only when wanted: `ignoreResult` (Celery's ignore_result). A fire-and-forget
 * task keeps no status or result, yet still retries and dead-letters; waiting on it is
 * refused. Runs in memory; with a store URL as the first argument it runs there instead.
 *
 *   bun examples/ignore-result.ts [sqlite:///tmp/stem-example.db]
 */
import { defineTask, signals, StemApp } from "../src/index.ts";

let tries = 0;
const track = defineTask<{ event: string }>({
  name: "analytics.track",
  // Nobody reads the outcome of a page view: store nothing for it.
  options: { ignoreResult: true, maxRetries: 2, retryBackoff: { kind: "fixed", delay: 50 } },
  run: (_ctx, { event }) => {
    if (++tries === 1) throw new Error("analytics endpoint busy");
    console.log(`tracked ${event} (attempt ${tries})`);
  },
});
const invoice = defineTask({ name: "invoice.total", run: () => 42 });

const url = process.argv[2];
const options = { tasks: [track, invoice] };
const app = url ? await StemApp.fromUrl(url, options) : await StemApp.inMemory(options);

const done = new Promise<void>((resolve) => {
  const off = signals.taskSucceeded.connect(({ envelope }) => {
    if (envelope.name === "analytics.track") off(), resolve();
  });
});
const trackId = await app.enqueue("analytics.track", { event: "page-view" });
await done;
console.log(`status of ${trackId}:`, await app.getTaskStatus(trackId)); // null: nothing kept
await app.waitForTask(trackId).catch((error) => console.log(`waitForTask: ${error.message}`));

// The same switch per call: keep the result of this one invoice, or drop it.
const kept = await app.enqueue("invoice.total");
console.log("invoice.total:", (await app.waitForTask(kept)).value);
const dropped = await app.enqueue("invoice.total", {}, { ignoreResult: true });
console.log(`with ignoreResult, ${dropped} is enqueued and keeps no status`);

await app.close();
