/**
 * The benchmark workload for Stem on one store URL: enqueue one at a time and in batches,
 * drain with one worker process at several concurrencies, and idle enqueue→start latency.
 */
import { join } from "node:path";
import { StemClient } from "../src/index.ts";
import { startChild } from "./child-process.ts";

export interface WorkloadOptions {
  url: string;
  tasks: number;
  concurrencies: number[];
  latencySamples: number;
  /** The drain worker's prefetch for a concurrency. Default: twice it, at least 20. */
  prefetch?: (concurrency: number) => number;
  /**
   * Untimed enqueues (to a `warmup` queue no worker reads) before each timed enqueue phase,
   * so the producer's code is compiled before timing starts. Default 0.
   */
  warmup?: number;
  /** Every task of the workload keeps no status or result (`ignoreResult`). Default false. */
  ignoreResult?: boolean;
  /**
   * Drains each concurrency a second time with `ignoreResult` tasks, into
   * `drainIgnoreResultPerSec`: what storing results costs. Default false.
   */
  compareIgnoreResult?: boolean;
  /** Called before each phase so the store starts empty. */
  reset(): Promise<void>;
}

export interface WorkloadResult {
  enqueueOneByOnePerSec: number;
  enqueueBatchedPerSec: number;
  drainPerSec: Record<string, number>;
  /** With `compareIgnoreResult`: the same drains with tasks that keep no result. */
  drainIgnoreResultPerSec?: Record<string, number>;
  latencyMs: { p50: number; p99: number };
}

const perSec = (n: number, ms: number) => Math.round((n / ms) * 1000);

/** Pause after a latency job finished before the next is sent, so the worker is idle again. */
export const IDLE_PAUSE_MS = 5;

/** Enqueue-to-start latencies: the orchestrator runs one, sorted into p50 and p99 here. */
export function latencySummary(values: number[]): { p50: number; p99: number } {
  return { p50: percentile(values, 50), p99: percentile(values, 99) };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(2),
  );
}

const noops = (n: number, ignoreResult = false) =>
  Array.from({ length: n }, () => ({
    name: "bench.noop",
    args: {},
    options: ignoreResult ? { ignoreResult } : {},
  }));

/** Enqueues the tasks, then times one worker process draining them; returns tasks/s. */
async function drain(o: WorkloadOptions, concurrency: number, ignoreResult: boolean) {
  await o.reset();
  const client = await StemClient.fromUrl(o.url);
  for (let i = 0; i < o.tasks; i += 1000)
    await client.stem.enqueueMany(noops(Math.min(1000, o.tasks - i), ignoreResult));
  await client.close();
  const { ms } = await startChild([
    process.execPath,
    join(import.meta.dir, "drain-worker.ts"),
    o.url,
    String(concurrency),
    String(o.tasks),
    ...(o.prefetch ? [String(o.prefetch(concurrency))] : []),
  ]).result;
  return perSec(o.tasks, ms as number);
}

export async function runStemWorkload(o: WorkloadOptions): Promise<WorkloadResult> {
  const warmup = o.warmup ?? 0;
  const quiet = o.ignoreResult ?? false;
  const options = quiet ? { ignoreResult: true } : {};
  await o.reset();
  let client = await StemClient.fromUrl(o.url);
  for (let i = 0; i < warmup; i++)
    await client.enqueue("bench.noop", {}, { ...options, queue: "warmup" });
  let t = performance.now();
  for (let i = 0; i < o.tasks; i++) await client.enqueue("bench.noop", {}, options);
  const oneByOne = perSec(o.tasks, performance.now() - t);
  await client.close();

  await o.reset();
  client = await StemClient.fromUrl(o.url);
  const warmupCalls = noops(1000).map((call) => ({
    ...call,
    options: { ...options, queue: "warmup" },
  }));
  for (let i = 0; i < warmup; i += 1000) await client.stem.enqueueMany(warmupCalls);
  t = performance.now();
  for (let i = 0; i < o.tasks; i += 1000)
    await client.stem.enqueueMany(noops(Math.min(1000, o.tasks - i), quiet));
  const batched = perSec(o.tasks, performance.now() - t);
  await client.close();

  const drainPerSec: Record<string, number> = {};
  for (const c of o.concurrencies) drainPerSec[`c${c}`] = await drain(o, c, quiet);
  let drainIgnoreResultPerSec: Record<string, number> | undefined;
  if (o.compareIgnoreResult) {
    drainIgnoreResultPerSec = {};
    for (const c of o.concurrencies) drainIgnoreResultPerSec[`c${c}`] = await drain(o, c, true);
  }

  await o.reset();
  client = await StemClient.fromUrl(o.url);
  const worker = startChild([
    process.execPath,
    join(import.meta.dir, "latency-worker.ts"),
    o.url,
    String(o.latencySamples),
  ]);
  await worker.expect("ready");
  await Bun.sleep(300);
  for (let i = 0; i < o.latencySamples; i++) {
    await client.enqueue("bench.stamp", { t: performance.timeOrigin + performance.now() }, options);
    // Idle latency: the next job is sent only after this one ran and the worker is idle again.
    await worker.expect("done");
    await Bun.sleep(IDLE_PAUSE_MS);
  }
  const { latencies } = await worker.result;
  await client.close();
  const values = latencies as number[];
  return {
    enqueueOneByOnePerSec: oneByOne,
    enqueueBatchedPerSec: batched,
    drainPerSec,
    ...(drainIgnoreResultPerSec ? { drainIgnoreResultPerSec } : {}),
    latencyMs: latencySummary(values),
  };
}
