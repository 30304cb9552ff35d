/**
 * The Redis-vs-BullMQ suite: the same workload for Stem (on Bun) and BullMQ (on Node) on
 * one Redis server in one run, each phase under its own key prefix, cleaned up after.
 * With several rounds (alternating which system goes first) each figure is the median.
 *
 * Every ratio reads "above 1 means Stem is better": throughput ratios are Stem/BullMQ,
 * latency ratios are BullMQ/Stem.
 */
import { cpus, release, type } from "node:os";
import Redis from "ioredis";
import { type Figures, medians, ratio, ratiosOf } from "./figures.ts";
import { runBullmqWorkload } from "./bullmq-workload.ts";
import { redisPrefixes } from "./redis-prefixes.ts";
import { type WorkloadResult, runStemWorkload } from "./stem-workload.ts";

export interface SuiteOptions {
  redisUrl: string;
  tasks: number;
  latencySamples: number;
  rounds: number;
}

/** A figure, flattened: name → value. */

/** Figures where lower is better (latency); every other figure is a throughput. */
/**
 * Stem's drain worker prefetch: four times the concurrency, at least 1,000 (the worker
 * fetches a quarter of it at a time, so fetches, handlers and result writes overlap).
 * BullMQ has no prefetch: each worker slot takes its next job as it completes one.
 */
export const STEM_PREFETCH = (concurrency: number) => Math.max(4 * concurrency, 1000);

/** Untimed enqueues before each timed enqueue phase, for both systems (JIT warm-up). */
const WARMUP = 1000;

/** Issue targets: the ratio (Stem better when above 1) each figure must reach. */
const TARGETS: Record<string, number> = { drainC10PerSec: 2, drainC100PerSec: 2 };

function flatten(r: WorkloadResult): Figures {
  const out: Figures = {
    enqueueOneByOnePerSec: r.enqueueOneByOnePerSec,
    enqueueBatchedPerSec: r.enqueueBatchedPerSec,
  };
  for (const [c, v] of Object.entries(r.drainPerSec)) out[`drain${c.toUpperCase()}PerSec`] = v;
  out.latencyP50Ms = r.latencyMs.p50;
  out.latencyP99Ms = r.latencyMs.p99;
  return out;
}

async function redisVersion(url: string): Promise<string> {
  const redis = new Redis(url);
  try {
    const info = await redis.info("server");
    return /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
  } finally {
    redis.disconnect();
  }
}

async function nodeVersion(): Promise<string> {
  const proc = Bun.spawn(["node", "--version"], { stdout: "pipe" });
  const text = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error("`node` is needed on the PATH to run BullMQ");
  return text.trim();
}

async function stemRound(o: SuiteOptions): Promise<Figures> {
  const prefixes = redisPrefixes(o.redisUrl, "stem-bench");
  let url = "";
  try {
    return flatten(
      await runStemWorkload({
        get url() {
          return url;
        },
        tasks: o.tasks,
        concurrencies: [1, 10, 100],
        latencySamples: o.latencySamples,
        prefetch: STEM_PREFETCH,
        warmup: WARMUP,
        reset: async () => {
          url = `${o.redisUrl}?prefix=${prefixes.next()}`;
        },
      }),
    );
  } finally {
    await prefixes.cleanup();
  }
}

async function bullmqRound(o: SuiteOptions): Promise<Figures> {
  const prefixes = redisPrefixes(o.redisUrl, "bullmq-bench");
  let prefix = "";
  try {
    return flatten(
      await runBullmqWorkload({
        redisUrl: o.redisUrl,
        get prefix() {
          return prefix;
        },
        tasks: o.tasks,
        concurrencies: [1, 10, 100],
        latencySamples: o.latencySamples,
        warmup: WARMUP,
        reset: async () => {
          prefix = prefixes.next();
        },
      }),
    );
  } finally {
    await prefixes.cleanup();
  }
}

/** Runs the suite and returns its JSON report. */
export async function runRedisVsBullmq(o: SuiteOptions): Promise<Record<string, unknown>> {
  const stemRounds: Figures[] = [];
  const bullRounds: Figures[] = [];
  for (let round = 0; round < o.rounds; round++) {
    // Alternate who goes first so neither always meets a warmer (or busier) machine.
    if (round % 2 === 0) {
      stemRounds.push(await stemRound(o));
      bullRounds.push(await bullmqRound(o));
    } else {
      bullRounds.push(await bullmqRound(o));
      stemRounds.push(await stemRound(o));
    }
  }
  const stem = medians(stemRounds);
  const bullmq = medians(bullRounds);
  const ratios = ratiosOf(stem, bullmq);
  const targets: Record<string, { ratioAtLeast: number; met: boolean }> = {};
  for (const key of Object.keys(stem)) {
    const goal = TARGETS[key] ?? 1;
    targets[key] = { ratioAtLeast: goal, met: ratio(key, stem[key], bullmq[key]) >= goal };
  }
  return {
    suite: "redis-vs-bullmq",
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      os: `${type()} ${release()}`,
      redis: await redisVersion(o.redisUrl),
      bun: Bun.version,
      node: await nodeVersion(),
    },
    tasks: o.tasks,
    latencySamples: o.latencySamples,
    rounds: o.rounds,
    warmup: WARMUP,
    stemPrefetch: Object.fromEntries([1, 10, 100].map((c) => [`c${c}`, STEM_PREFETCH(c)])),
    ratioMeaning:
      "above 1 means Stem is better: throughput ratios are Stem/BullMQ, latency ratios are BullMQ/Stem",
    stem,
    bullmq,
    ratios,
    targets,
    perRound: o.rounds > 1 ? { stem: stemRounds, bullmq: bullRounds } : undefined,
  };
}
