/**
 * graphile-worker benchmark producer (run under Node):
 * `node bench/graphile-producer.mjs MODE POSTGRES_URL SCHEMA COUNT`.
 * Installs graphile-worker's schema first (not timed), then:
 *
 * - `one`: adds COUNT no-op jobs one at a time (`addJob`), prints {"ms"}.
 * - `bulk`: adds COUNT no-op jobs in batches of 1,000 (`addJobs`), prints {"ms"}.
 * - `latency`: adds `stamp` jobs carrying their enqueue time (epoch ms); after each one it
 *   waits for a line on stdin (the orchestrator forwards the worker's "done") and stops
 *   after COUNT jobs or on "stop". Prints {"ms", "sent"}.
 */
import { createInterface } from "node:readline";
import { makeWorkerUtils } from "graphile-worker";
import { quietLogger } from "./graphile-options.mjs";

const [mode, url, schema, countText] = process.argv.slice(2);
const count = Number(countText);
const utils = await makeWorkerUtils({ connectionString: url, schema, logger: quietLogger });
await utils.migrate();
const now = () => performance.timeOrigin + performance.now();

let sent = 0;
const started = performance.now();
if (mode === "one") {
  for (; sent < count; sent++) await utils.addJob("noop", {});
} else if (mode === "bulk") {
  for (; sent < count; sent += 1000) {
    const n = Math.min(1000, count - sent);
    await utils.addJobs(Array.from({ length: n }, () => ({ identifier: "noop", payload: {} })));
  }
  sent = count;
} else if (mode === "latency") {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  while (sent < count) {
    await utils.addJob("stamp", { t: now() });
    sent++;
    const { value, done } = await lines.next();
    if (done || value === "stop") break;
  }
} else {
  throw new Error(`unknown mode "${mode}" (use one, bulk or latency)`);
}
const ms = performance.now() - started;
await utils.release();
process.stdout.write(`${JSON.stringify({ ms, sent })}\n`);
process.exit(0);
