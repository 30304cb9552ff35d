/**
 * The benchmark workload for a Postgres job queue that runs under Node (graphile-worker,
 * pg-boss), the same as Stem's (see stem-workload.ts): enqueue one at a time and in
 * batches of 1,000, drain with one worker process at several concurrencies, and idle
 * enqueue→start latency. Each peer has `<peer>-producer.mjs`, `<peer>-drain-worker.mjs`
 * and `<peer>-latency-worker.mjs` speaking the same protocol; each phase gets a fresh
 * schema from `reset`.
 *
 * A peer can be far slower than Stem (pg-boss at its defaults takes one job per worker
 * every 2 seconds), so drains and latency runs stop at a time cap: a capped drain
 * counts the jobs completed by then, a capped latency run keeps the samples taken.
 */
import { join } from "node:path";
import { startChild } from "./child-process.ts";
import { IDLE_PAUSE_MS, latencySummary } from "./stem-workload.ts";

export type Peer = "graphile" | "pgboss";
export type Variant = "default" | "batched";

export interface PeerWorkloadOptions {
  peer: Peer;
  variant: Variant;
  postgresUrl: string;
  /** The current phase's schema (changes after each `reset`). */
  readonly schema: string;
  tasks: number;
  concurrencies: number[];
  latencySamples: number;
  /** A drain or latency run stops after this long. */
  capMs: number;
  /** Called before each phase so the phase starts on an empty schema. */
  reset(): Promise<void>;
  /** The Node executable. Default `node` on the PATH. */
  node?: string;
}

export interface PeerDrain {
  perSec: number;
  /** Jobs completed in the drain (fewer than the tasks when capped). */
  completed: number;
  capped: boolean;
}

export interface PeerWorkloadResult {
  enqueueOneByOnePerSec: number;
  enqueueBatchedPerSec: number;
  drain: Record<string, PeerDrain>;
  latencyMs: { p50: number; p99: number; samples: number; capped: boolean };
}

/** Jobs per second; one decimal below 10 (pg-boss at its defaults runs 0.5 jobs/s per worker). */
const perSec = (n: number, ms: number) => {
  const rate = (n / ms) * 1000;
  return rate < 10 ? Number(rate.toFixed(1)) : Math.round(rate);
};

export async function runPeerWorkload(o: PeerWorkloadOptions): Promise<PeerWorkloadResult> {
  const node = o.node ?? "node";
  const script = (role: string) => join(import.meta.dir, `${o.peer}-${role}.mjs`);
  const produce = async (mode: "one" | "bulk") => {
    const { ms } = await startChild([
      node,
      script("producer"),
      mode,
      o.postgresUrl,
      o.schema,
      String(o.tasks),
    ]).result;
    return ms as number;
  };

  await o.reset();
  const oneByOne = perSec(o.tasks, await produce("one"));
  await o.reset();
  const bulk = perSec(o.tasks, await produce("bulk"));

  const drain: Record<string, PeerDrain> = {};
  for (const c of o.concurrencies) {
    await o.reset();
    await produce("bulk");
    const result = await startChild([
      node,
      script("drain-worker"),
      o.postgresUrl,
      o.schema,
      o.variant,
      String(c),
      String(o.tasks),
      String(o.capMs),
    ]).result;
    const done = result.done as number;
    drain[`c${c}`] = {
      perSec: perSec(done, result.ms as number),
      completed: done,
      capped: result.capped as boolean,
    };
  }

  await o.reset();
  const worker = startChild([node, script("latency-worker"), o.postgresUrl, o.schema, o.variant], {
    stdin: true,
  });
  await worker.expect("ready");
  await Bun.sleep(300);
  const producer = startChild(
    [node, script("producer"), "latency", o.postgresUrl, o.schema, String(o.latencySamples)],
    { stdin: true },
  );
  const started = performance.now();
  let taken = 0;
  let capped = false;
  for (;;) {
    await worker.expect("done");
    taken++;
    if (taken >= o.latencySamples) break;
    if (performance.now() - started > o.capMs) {
      capped = true;
      break;
    }
    // Idle latency: the next job is sent only after this one ran and the worker is idle again.
    await Bun.sleep(IDLE_PAUSE_MS);
    producer.write("next\n");
  }
  producer.write("stop\n");
  await producer.result;
  worker.write("stop\n");
  const { latencies } = await worker.result;
  const values = latencies as number[];
  return {
    enqueueOneByOnePerSec: oneByOne,
    enqueueBatchedPerSec: bulk,
    drain,
    latencyMs: { ...latencySummary(values), samples: values.length, capped },
  };
}
