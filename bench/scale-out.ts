/**
 * Scale-out: how drain throughput grows with worker processes on one store, and what a
 * million queued tasks cost in memory.
 *
 * - Drain: `tasks` no-op tasks (results kept) spread over `queues` queues, drained by 1, 2
 *   and 4 worker processes (each consuming every queue, concurrency 10, prefetch 1,000),
 *   timed from the first handler start in any process to the last handler end; with the
 *   store's CPU time during the drain where it can be read (Redis INFO; a cluster sums its
 *   nodes), which shows when the store, not the workers, is the limit.
 * - Million (`million` > 0): enqueues that many tasks in batches of 1,000 through the
 *   client, then drains them with one worker process; reports the enqueue and drain rates,
 *   the worker's peak RSS and the store's memory before, after the enqueue and after the
 *   drain (results kept, so the store then holds a result per task).
 *
 * Targets: `redis`, `postgres`, `redis-cluster` (a Redis Cluster of three local nodes the
 * benchmark starts itself, see test/e2e/fixtures/redis-cluster.ts).
 */
import { join } from "node:path";
import { StemClient } from "../src/index.ts";
import { type Child, startChild } from "./child-process.ts";
import { storeMeter } from "./store-meter.ts";
import { storeTarget } from "./targets.ts";

export interface ScaleOutOptions {
  targets: string[];
  tasks: number;
  workers: number[];
  queues: number;
  million: number;
}

interface WorkerReport {
  done: number;
  first: number;
  last: number;
  peakRssMb: number;
}

const CONCURRENCY = 10;
const PREFETCH = 1000;

function queueNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `scale-${i}`);
}

async function enqueueSpread(url: string, tasks: number, queues: string[]): Promise<number> {
  const client = await StemClient.fromUrl(url);
  const start = performance.now();
  try {
    for (let i = 0; i < tasks; i += 1000) {
      const n = Math.min(1000, tasks - i);
      await client.stem.enqueueMany(
        Array.from({ length: n }, (_, k) => ({
          name: "bench.noop",
          args: {},
          options: { queue: queues[(i + k) % queues.length] },
        })),
      );
    }
  } finally {
    await client.close();
  }
  return Math.round(tasks / ((performance.now() - start) / 1000));
}

/** Starts `count` workers, waits until every task ran, stops them and returns their reports. */
async function drainWith(url: string, queues: string[], count: number, tasks: number) {
  const children: Child[] = [];
  for (let i = 0; i < count; i++) {
    children.push(
      startChild(
        [
          process.execPath,
          join(import.meta.dir, "scale-worker.ts"),
          url,
          queues.join(","),
          String(CONCURRENCY),
          String(PREFETCH),
        ],
        { stdin: true },
      ),
    );
  }
  for (const child of children) await child.expect("ready");
  const client = await StemClient.fromUrl(url);
  try {
    for (;;) {
      const stats = await client.stem.broker.stats(queues);
      if (stats.every((s) => s.pending === 0 && s.inflight === 0 && s.delayed === 0)) break;
      await Bun.sleep(50);
    }
  } finally {
    await client.close();
  }
  for (const child of children) child.write("stop\n");
  const reports = (await Promise.all(children.map((c) => c.result))) as unknown as WorkerReport[];
  const done = reports.reduce((sum, r) => sum + r.done, 0);
  if (done < tasks) throw new Error(`the workers ran ${done} of ${tasks} tasks`);
  const working = reports.filter((r) => r.done > 0);
  const first = Math.min(...working.map((r) => r.first));
  const last = Math.max(...working.map((r) => r.last));
  return {
    perSec: Math.round(tasks / ((last - first) / 1000)),
    tasksPerWorker: reports.map((r) => r.done),
    peakRssMb: Math.round(Math.max(...reports.map((r) => r.peakRssMb))),
  };
}

async function runTarget(name: string, o: ScaleOutOptions) {
  const target = await storeTarget(name, "stem-scale");
  const queues = queueNames(o.queues);
  const out: Record<string, unknown> = {};
  try {
    const drains: Record<string, unknown> = {};
    for (const workers of o.workers) {
      const url = await target.next();
      await enqueueSpread(url, o.tasks, queues);
      const meter = await storeMeter(url);
      const cpuBefore = await meter.cpuSeconds();
      const drain = await drainWith(url, queues, workers, o.tasks);
      const cpuAfter = await meter.cpuSeconds();
      await meter.close();
      drains[`workers${workers}`] = {
        ...drain,
        ...(cpuBefore === null || cpuAfter === null
          ? {}
          : { storeCpuSeconds: Number((cpuAfter - cpuBefore).toFixed(2)) }),
      };
    }
    out.drain = drains;
    if (o.million > 0) {
      const url = await target.next();
      const meter = await storeMeter(url);
      const before = await meter.memoryMb();
      const enqueuePerSec = await enqueueSpread(url, o.million, queues);
      const afterEnqueue = await meter.memoryMb();
      const drain = await drainWith(url, queues, 1, o.million);
      const afterDrain = await meter.memoryMb();
      await meter.close();
      out.million = {
        tasks: o.million,
        enqueuePerSec,
        drainPerSec: drain.perSec,
        workerPeakRssMb: drain.peakRssMb,
        storeMemoryMb: { before, afterEnqueue, afterDrain },
      };
    }
  } finally {
    await target.cleanup();
  }
  return out;
}

export async function runScaleOut(o: ScaleOutOptions): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  for (const name of o.targets) results[name] = await runTarget(name, o);
  return {
    suite: "scale-out",
    tasks: o.tasks,
    queues: o.queues,
    concurrencyPerWorker: CONCURRENCY,
    machine: { cpus: navigator.hardwareConcurrency },
    results,
  };
}
