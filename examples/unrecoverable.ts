/**
 * Failure control: errors that must not be retried.
 * `charge` throws UnrecoverableError on a declined card: it fails at once (one attempt,
 * dead letter reason `unrecoverable`) although it allows 5 retries. `fetch` retries only
 * network errors (`retryOn`): the first attempt's NetworkError is retried, the second
 * attempt's RangeError is not (dead letter reason `not-retryable`).
 *
 *   bun examples/unrecoverable.ts
 *   →  charge: failed after 1 attempt(s), dead letter reason unrecoverable
 *      fetch: failed after 2 attempt(s), dead letter reason not-retryable
 */
import { defineTask, FixedRetryStrategy, StemClient, UnrecoverableError } from "../src/index.ts";

class NetworkError extends Error {}

const charge = defineTask<{ card: string }>({
  name: "billing.charge",
  options: { maxRetries: 5 },
  run: (_ctx, { card }) => {
    throw new UnrecoverableError(`card ${card} declined`);
  },
});

const fetchPage = defineTask<{ page: number }>({
  name: "crawler.fetch",
  options: { maxRetries: 5, retryOn: [NetworkError] },
  run: (ctx, { page }) => {
    if (ctx.attempt === 1) throw new NetworkError("connection reset");
    throw new RangeError(`page ${page} does not exist`);
  },
});

const client = await StemClient.inMemory({ tasks: [charge, fetchPage] });
const worker = client.createWorker({ retryStrategy: new FixedRetryStrategy("100ms") });
await worker.start();

for (const [label, id] of [
  ["charge", await charge.enqueue(client, { card: "4000-0000-0000-0002" })],
  ["fetch", await fetchPage.enqueue(client, { page: 999 })],
] as const) {
  const result = await client.waitForTask(id, { timeout: 10_000 });
  const dead = await client.broker.getDeadLetter(id);
  const status = await client.getTaskStatus(id);
  console.log(
    `${label}: ${result.state} after ${status?.attempt} attempt(s), dead letter reason ${dead?.reason}`,
  );
}

await worker.shutdown();
await client.close();
