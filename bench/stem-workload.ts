/**
 * The benchmark workload for Stem on one store URL: enqueue one at a time and in batches,
 * drain with one worker process at several concurrencies, and idle enqueue→start latency.
 */
import { join } from "node:path";
import { StemClient } from "../src/index.ts";

export interface WorkloadOptions {
  url: string;
  tasks: number;
  concurrencies: number[];
  latencySamples: number;
  /** Called before each phase so the store starts empty. */
  reset(): Promise<void>;
}

export interface WorkloadResult {
  enqueueOneByOnePerSec: number;
  enqueueBatchedPerSec: number;
  drainPerSec: Record<string, number>;
  latencyMs: { p50: number; p99: number };
}

const perSec = (n: number, ms: number) => Math.round((n / ms) * 1000);

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(2));
}

async function spawnAndRead(args: string[], onReady: () => Promise<void>): Promise<Record<string, unknown>> {
  const proc = Bun.spawn([process.execPath, ...args], { stdout: "pipe", stderr: "inherit", env: { ...process.env, STEM_LOG_LEVEL: "error" } });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  let readyHandled = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
    if (!readyHandled && text.includes("ready\n")) {
      readyHandled = true;
      await onReady();
    }
  }
  await proc.exited;
  const last = text.trim().split("\n").pop()!;
  return JSON.parse(last);
}

const noops = (n: number) => Array.from({ length: n }, () => ({ name: "bench.noop", args: {}, options: {} }));

export async function runStemWorkload(o: WorkloadOptions): Promise<WorkloadResult> {
  await o.reset();
  let client = await StemClient.fromUrl(o.url);
  let t = performance.now();
  for (let i = 0; i < o.tasks; i++) await client.enqueue("bench.noop");
  const oneByOne = perSec(o.tasks, performance.now() - t);
  await client.close();

  await o.reset();
  client = await StemClient.fromUrl(o.url);
  t = performance.now();
  for (let i = 0; i < o.tasks; i += 1000) await client.stem.enqueueMany(noops(Math.min(1000, o.tasks - i)));
  const batched = perSec(o.tasks, performance.now() - t);
  await client.close();

  const drainPerSec: Record<string, number> = {};
  for (const c of o.concurrencies) {
    await o.reset();
    client = await StemClient.fromUrl(o.url);
    for (let i = 0; i < o.tasks; i += 1000) await client.stem.enqueueMany(noops(Math.min(1000, o.tasks - i)));
    await client.close();
    const { ms } = await spawnAndRead([join(import.meta.dir, "drain-worker.ts"), o.url, String(c), String(o.tasks)], async () => {});
    drainPerSec[`c${c}`] = perSec(o.tasks, ms as number);
  }

  await o.reset();
  client = await StemClient.fromUrl(o.url);
  const { latencies } = await spawnAndRead([join(import.meta.dir, "latency-worker.ts"), o.url, String(o.latencySamples)], async () => {
    await Bun.sleep(300);
    for (let i = 0; i < o.latencySamples; i++) {
      await client.enqueue("bench.stamp", { t: performance.timeOrigin + performance.now() });
      // Idle latency: the next job is sent only after the worker went idle again.
      await Bun.sleep(2);
    }
  });
  await client.close();
  const values = latencies as number[];
  return {
    enqueueOneByOnePerSec: oneByOne,
    enqueueBatchedPerSec: batched,
    drainPerSec,
    latencyMs: { p50: percentile(values, 50), p99: percentile(values, 99) },
  };
}
