/**
 * The benchmark workload for BullMQ, the same as Stem's (see stem-workload.ts), on one
 * Redis server. BullMQ's producer and workers run under Node, its home runtime; each
 * phase gets a fresh key prefix from `reset`.
 */
import { join } from "node:path";
import { startChild } from "./child-process.ts";
import { IDLE_PAUSE_MS, type WorkloadResult, latencySummary } from "./stem-workload.ts";

export interface BullmqWorkloadOptions {
  redisUrl: string;
  /** The current phase's key prefix (changes after each `reset`). */
  readonly prefix: string;
  tasks: number;
  concurrencies: number[];
  latencySamples: number;
  /** Untimed jobs added before each timed enqueue phase (see bullmq-producer.mjs). */
  warmup?: number;
  /** Called before each phase so the store starts empty. */
  reset(): Promise<void>;
  /** The Node executable. Default `node` on the PATH. */
  node?: string;
}

const perSec = (n: number, ms: number) => Math.round((n / ms) * 1000);
const script = (name: string) => join(import.meta.dir, name);

export async function runBullmqWorkload(o: BullmqWorkloadOptions): Promise<WorkloadResult> {
  const node = o.node ?? "node";
  const produce = async (mode: "one" | "bulk", warmup = 0) => {
    const { ms } = await startChild([
      node,
      script("bullmq-producer.mjs"),
      mode,
      o.redisUrl,
      o.prefix,
      String(o.tasks),
      String(warmup),
    ]).result;
    return ms as number;
  };

  await o.reset();
  const oneByOne = perSec(o.tasks, await produce("one", o.warmup));
  await o.reset();
  const bulk = perSec(o.tasks, await produce("bulk", o.warmup));

  const drainPerSec: Record<string, number> = {};
  for (const c of o.concurrencies) {
    await o.reset();
    await produce("bulk");
    const { ms } = await startChild([
      node,
      script("bullmq-drain-worker.mjs"),
      o.redisUrl,
      o.prefix,
      String(c),
      String(o.tasks),
    ]).result;
    drainPerSec[`c${c}`] = perSec(o.tasks, ms as number);
  }

  await o.reset();
  const worker = startChild([
    node,
    script("bullmq-latency-worker.mjs"),
    o.redisUrl,
    o.prefix,
    String(o.latencySamples),
  ]);
  await worker.expect("ready");
  await Bun.sleep(300);
  const producer = startChild(
    [
      node,
      script("bullmq-producer.mjs"),
      "latency",
      o.redisUrl,
      o.prefix,
      String(o.latencySamples),
    ],
    {
      stdin: true,
    },
  );
  for (let i = 0; i < o.latencySamples; i++) {
    // Idle latency: the producer sends the next job only after this one ran and the worker is idle again.
    await worker.expect("done");
    await Bun.sleep(IDLE_PAUSE_MS);
    producer.write("next\n");
  }
  await producer.result;
  const { latencies } = await worker.result;
  return {
    enqueueOneByOnePerSec: oneByOne,
    enqueueBatchedPerSec: bulk,
    drainPerSec,
    latencyMs: latencySummary(latencies as number[]),
  };
}
