/**
 * Canvas: the three shapes from the product overview, on an in-memory client.
 *
 *   chain  resize → upload → notify   (each step gets the previous result)
 *   group  resize ×3 in parallel       (results in the order given)
 *   chord  fetch.a, fetch.b, fetch.c → aggregate (callback gets the ordered results)
 *   chord  with a timeout, and with onMemberFailure "partial" (a failed member → null)
 *
 *   bun examples/canvas.ts
 */
import { defineTask, StemClient, task } from "../src/index.ts";

const resize = defineTask<{ file?: string; size?: string }>({
  name: "resize",
  run: async (_ctx, { file = "img.png", size = "medium" }) => {
    await Bun.sleep(size === "large" ? 60 : size === "medium" ? 30 : 10);
    return { file: file.replace(/\.png$/, `-${size}.png`), size };
  },
});

const upload = defineTask<{ file: string; bucket: string }>({
  name: "upload",
  run: (_ctx, { file, bucket }) => `${bucket}/${file}`,
});

const notify = defineTask<{ channel: string; url: string }>({
  name: "notify",
  run: (_ctx, { channel, url }) => `posted ${url} to #${channel}`,
});

const fetchTask = (source: string, value: number) =>
  defineTask({
    name: `fetch.${source}`,
    run: async () => {
      await Bun.sleep(10 * value);
      return { source, value };
    },
  });

const fetchDown = defineTask({
  name: "fetch.down",
  run: () => {
    throw new Error("source unreachable");
  },
});

const aggregate = defineTask<{
  results: ({ source: string; value: number } | null)[];
  failures?: { index: number; error: { message: string } }[];
}>({
  name: "aggregate",
  run: (_ctx, { results, failures = [] }) => ({
    sources: results.flatMap((r) => (r ? [r.source] : [])),
    total: results.reduce((n, r) => n + (r?.value ?? 0), 0),
    failed: failures.map((f) => `#${f.index}: ${f.error.message}`),
  }),
});

const client = await StemClient.inMemory({
  tasks: [
    resize,
    upload,
    notify,
    fetchTask("a", 3),
    fetchTask("b", 1),
    fetchTask("c", 2),
    fetchDown,
    aggregate,
  ],
});
const worker = client.createWorker({ concurrency: 4 });
await worker.start();
const canvas = client.canvas;

// Chain: sequential execution, results flow forward. `mergePrevious` merges the previous
// result (an object) into the step's args; `previousAs` puts it under one arg name.
const chain = await canvas.chain([
  task("resize", { file: "img.png" }),
  task("upload", { bucket: "s3://photos" }, { mergePrevious: true }),
  task("notify", { channel: "slack" }, { previousAs: "url" }),
]);
console.log("chain:", JSON.stringify(await chain.get({ timeout: "10s" })));

// Group: parallel execution; results come back in the order given.
const group = await canvas.group([
  task("resize", { size: "small" }),
  task("resize", { size: "medium" }),
  task("resize", { size: "large" }),
]);
console.log("group:", JSON.stringify(await group.get({ timeout: "10s" })));

// Chord: parallel tasks, then a callback with every result once all have completed. With a
// timeout, a chord whose members have not all settled by then fails (reason chord-timeout).
const chord = await canvas.chord(
  [task("fetch.a"), task("fetch.b"), task("fetch.c")],
  task("aggregate"),
  { timeout: "1m" },
);
console.log("chord:", JSON.stringify(await chord.get({ timeout: "10s" })));

// A partial chord runs its callback even when a member fails for good: null in its place,
// the error in args.failures. (By default the chord would fail with that member's error.)
const partial = await canvas.chord(
  [task("fetch.a"), task("fetch.down"), task("fetch.c")],
  task("aggregate"),
  { onMemberFailure: "partial" },
);
console.log("partial chord:", JSON.stringify(await partial.get({ timeout: "10s" })));

await worker.shutdown();
await client.close();
