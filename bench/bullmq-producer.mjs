/**
 * BullMQ benchmark producer (run under Node):
 * `node bench/bullmq-producer.mjs MODE REDIS_URL PREFIX COUNT [WARMUP]`.
 * WARMUP untimed jobs go first (the same way, to a `bench-warmup` queue no worker reads), so
 * the code is compiled before timing starts.
 *
 * - `one`: adds COUNT no-op jobs one at a time (`queue.add`), prints {"ms"}.
 * - `bulk`: adds COUNT no-op jobs in bulks of 1,000 (`queue.addBulk`), prints {"ms"}.
 * - `latency`: adds COUNT `stamp` jobs carrying their enqueue time; after each one it waits
 *   for a line on stdin (the orchestrator forwards the worker's "done") before the next,
 *   so every job meets an idle worker. Prints {"ms"}.
 */
import { createInterface } from "node:readline";
import { Queue } from "bullmq";
import { QUEUE, bullConnection } from "./bullmq-connection.mjs";

const [mode, url, prefix, countText, warmupText] = process.argv.slice(2);
const count = Number(countText);
const warmup = Number(warmupText ?? 0);
const queue = new Queue(QUEUE, { connection: bullConnection(url), prefix });
await queue.waitUntilReady();
if (warmup > 0) {
  const warm = new Queue(`${QUEUE}-warmup`, { connection: bullConnection(url), prefix });
  if (mode === "one") for (let i = 0; i < warmup; i++) await warm.add("bench.noop", {});
  if (mode === "bulk") {
    for (let i = 0; i < warmup; i += 1000) {
      await warm.addBulk(Array.from({ length: 1000 }, () => ({ name: "bench.noop", data: {} })));
    }
  }
  await warm.close();
}
const now = () => performance.timeOrigin + performance.now();

const started = performance.now();
if (mode === "one") {
  for (let i = 0; i < count; i++) await queue.add("bench.noop", {});
} else if (mode === "bulk") {
  for (let i = 0; i < count; i += 1000) {
    const n = Math.min(1000, count - i);
    await queue.addBulk(Array.from({ length: n }, () => ({ name: "bench.noop", data: {} })));
  }
} else if (mode === "latency") {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  for (let i = 0; i < count; i++) {
    await queue.add("bench.stamp", { t: now() });
    const { done } = await lines.next();
    if (done) throw new Error("the orchestrator closed stdin before every job started");
  }
} else {
  throw new Error(`unknown mode "${mode}" (use one, bulk or latency)`);
}
const ms = performance.now() - started;
await queue.close();
process.stdout.write(`${JSON.stringify({ ms })}\n`);
process.exit(0);
