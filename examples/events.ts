/**
 * Task events (BullMQ's QueueEvents): watch tasks move through their states from any
 * process, and wait for results without polling. Runs in memory; with a store URL as the
 * first argument (sqlite://, redis://, postgres://) it runs there, and `stem observe
 * events` in another terminal on the same store shows the same events.
 *
 *   bun examples/events.ts [sqlite:///tmp/stem-events.db]
 */
import { defineTask, StemApp, type TaskEvent } from "../src/index.ts";

const resize = defineTask<{ image: string }, string>({
  name: "images.resize",
  run: async (ctx, { image }) => {
    for (const percent of [25, 50, 75]) {
      await Bun.sleep(20);
      await ctx.progress(percent, { image });
    }
    return `${image}@2x`;
  },
});
let attempts = 0;
const upload = defineTask({
  name: "images.upload",
  options: { maxRetries: 1, retryBackoff: { kind: "fixed", delay: 50 } },
  run: () => {
    attempts++;
    throw new Error(`storage unavailable (attempt ${attempts})`);
  },
});

const url = process.argv[2];
const options = { tasks: [resize, upload] };
const app = url ? await StemApp.fromUrl(url, options) : await StemApp.inMemory(options);

function describe(event: TaskEvent): string {
  const extra =
    event.progress !== undefined
      ? ` ${event.progress.percent}%`
      : event.error
        ? ` (${event.error})`
        : "";
  return `${event.state.padEnd(13)} ${event.name} attempt ${event.attempt}${extra}`;
}

// Every event of the images.* tasks; `ready` resolves once the subscription is live.
const events = app.events({ name: ["images.resize", "images.upload"] });
await events.ready;
const printing = (async () => {
  let finals = 0;
  for await (const event of events) {
    console.log(describe(event));
    // Leaving the loop unsubscribes.
    if (event.state === "succeeded" || event.state === "dead-lettered") if (++finals === 2) break;
  }
})();

const resized = await app.enqueue("images.resize", { image: "cat.png" });
await app.enqueue("images.upload");
// Woken by the task's final event, not by polling the result backend.
console.log("waitForTask:", (await app.waitForTask(resized)).value);
await printing;
await app.close();
