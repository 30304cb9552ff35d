/**
 * Fills a queue with many small tasks through the Broker API, in batches (one store round
 * trip per batch, several batches in flight), for tests and benchmarks of large queues.
 */
import type { Broker } from "../adapters/contracts.ts";
import { buildEnvelope } from "../core/envelope.ts";

export interface FillOptions {
  /** Envelopes per publish call (default 1000). */
  batch?: number;
  /** Publish calls in flight at once (default 4). */
  parallel?: number;
  /** Every n-th task is delayed by an hour (default none). */
  delayEvery?: number;
}

/** Publishes `count` tasks named `fill.noop` (args `{ i }`) to `queue`. */
export async function fillQueue(
  broker: Broker,
  queue: string,
  count: number,
  options: FillOptions = {},
): Promise<void> {
  const batch = options.batch ?? 1000;
  const parallel = options.parallel ?? 4;
  const now = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const start = next;
      next = Math.min(count, next + batch);
      const envelopes = [];
      for (let i = start; i < next; i++) {
        const delayed = options.delayEvery !== undefined && i % options.delayEvery === 0;
        envelopes.push(
          buildEnvelope(
            {
              name: "fill.noop",
              queue,
              args: { i },
              notBefore: delayed ? now + 3_600_000 : undefined,
            },
            now,
          ),
        );
      }
      await broker.publish(envelopes);
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}
