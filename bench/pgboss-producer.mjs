/**
 * pg-boss benchmark producer (run under Node):
 * `node bench/pgboss-producer.mjs MODE POSTGRES_URL SCHEMA COUNT`.
 * Starts pg-boss on SCHEMA first (creating it; not timed), then:
 *
 * - `one`: sends COUNT no-op jobs one at a time (`send`), prints {"ms"}.
 * - `bulk`: inserts COUNT no-op jobs in batches of 1,000 (`insert`), prints {"ms"}.
 * - `latency`: sends `stamp` jobs carrying their enqueue time (epoch ms); after each one it
 *   waits for a line on stdin (the orchestrator forwards the worker's "done") and stops
 *   after COUNT jobs or on "stop". Prints {"ms", "sent"}.
 */
import { createInterface } from "node:readline";
import { QUEUE, startBoss } from "./pgboss-options.mjs";

const [mode, url, schema, countText] = process.argv.slice(2);
const count = Number(countText);
const boss = await startBoss(url, schema);
const now = () => performance.timeOrigin + performance.now();

let sent = 0;
const started = performance.now();
if (mode === "one") {
  for (; sent < count; sent++) await boss.send(QUEUE, {});
} else if (mode === "bulk") {
  for (; sent < count; sent += 1000) {
    const n = Math.min(1000, count - sent);
    await boss.insert(Array.from({ length: n }, () => ({ name: QUEUE, data: {} })));
  }
  sent = count;
} else if (mode === "latency") {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  while (sent < count) {
    await boss.send(QUEUE, { t: now() });
    sent++;
    const { value, done } = await lines.next();
    if (done || value === "stop") break;
  }
} else {
  throw new Error(`unknown mode "${mode}" (use one, bulk or latency)`);
}
const ms = performance.now() - started;
await boss.stop({ graceful: false, wait: true });
process.stdout.write(`${JSON.stringify({ ms, sent })}\n`);
process.exit(0);
