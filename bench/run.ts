/**
 * `npm run bench [-- --adapter sqlite,redis,postgres] [--tasks 20000] [--latency 1000]`:
 * runs the Stem workload on each adapter and prints JSON.
 * `npm run bench -- --suite redis-vs-bullmq [--rounds 3]`: Stem against BullMQ on the same
 * Redis (see redis-vs-bullmq.ts).
 * `npm run bench -- --suite postgres-vs-peers [--rounds 3] [--systems stem-batched,graphile-batched]
 * [--peer-cap 30]`: Stem against graphile-worker and pg-boss on the same Postgres (see
 * postgres-vs-peers.ts).
 * `npm run bench -- --suite beat [--adapter sqlite,redis]`: Beat's dispatch drift for 1,000
 * entries due in the same second (see beat-drift.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import Redis from "ioredis";
import { runPostgresVsPeers } from "./postgres-vs-peers.ts";
import { runRedisVsBullmq } from "./redis-vs-bullmq.ts";
import { runStemWorkload } from "./stem-workload.ts";

const REDIS_URL = process.env.STEM_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const POSTGRES_URL =
  process.env.STEM_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const { values } = parseArgs({
  options: {
    adapter: { type: "string", default: "sqlite,redis,postgres" },
    tasks: { type: "string", default: "20000" },
    latency: { type: "string", default: "1000" },
    suite: { type: "string" },
    rounds: { type: "string", default: "1" },
    systems: { type: "string" },
    "peer-cap": { type: "string", default: "30" },
  },
});
const tasks = Number(values.tasks);

if (values.suite === "redis-vs-bullmq") {
  const report = await runRedisVsBullmq({
    redisUrl: REDIS_URL,
    tasks,
    latencySamples: Number(values.latency),
    rounds: Number(values.rounds),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exit(0);
} else if (values.suite === "postgres-vs-peers") {
  const report = await runPostgresVsPeers({
    postgresUrl: POSTGRES_URL,
    tasks,
    latencySamples: Number(values.latency),
    rounds: Number(values.rounds),
    capMs: Number(values["peer-cap"]) * 1000,
    systems: values.systems?.split(","),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exit(0);
} else if (values.suite === "beat") {
  const { runBeatSuite } = await import("./beat-drift.ts");
  const results = await runBeatSuite(values.adapter!.split(","));
  process.stdout.write(
    `${JSON.stringify({ suite: "beat-drift", entries: 1000, results }, null, 2)}\n`,
  );
  process.exit(0);
} else if (values.suite !== undefined) {
  throw new Error(
    `unknown suite "${values.suite}" (use redis-vs-bullmq, postgres-vs-peers or beat)`,
  );
}
const results: Record<string, unknown> = {};

/** A fresh, empty store URL per phase, and a cleanup for all of them. */
interface Target {
  next(): Promise<string>;
  cleanup(): Promise<void>;
}

function sqliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), "stem-bench-"));
  let n = 0;
  return {
    next: async () => `sqlite://${join(dir, `bench-${++n}.db`)}`,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function redisTarget(): Target {
  const prefixes: string[] = [];
  return {
    next: async () => {
      const prefix = `stem-bench-${process.pid}-${prefixes.length}`;
      prefixes.push(prefix);
      return `${REDIS_URL}?prefix=${prefix}`;
    },
    cleanup: async () => {
      const redis = new Redis(REDIS_URL);
      for (const prefix of prefixes) {
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
          cursor = next;
          if (keys.length) await redis.unlink(...keys);
        } while (cursor !== "0");
      }
      redis.disconnect();
    },
  };
}

function postgresTarget(): Target {
  const schemas: string[] = [];
  return {
    next: async () => {
      const schema = `stem_bench_${process.pid}_${schemas.length}`;
      schemas.push(schema);
      return `${POSTGRES_URL}?schema=${schema}`;
    },
    cleanup: async () => {
      const sql = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
      for (const schema of schemas) await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await sql.end();
    },
  };
}

const targets: Record<string, () => Target> = {
  sqlite: sqliteTarget,
  redis: redisTarget,
  postgres: postgresTarget,
};

for (const adapter of values.adapter!.split(",")) {
  const make = targets[adapter];
  if (!make)
    throw new Error(`unknown adapter "${adapter}" (use ${Object.keys(targets).join(", ")})`);
  const target = make();
  let url = "";
  try {
    results[adapter] = await runStemWorkload({
      get url() {
        return url;
      },
      tasks,
      concurrencies: [1, 10, 100],
      latencySamples: Number(values.latency),
      reset: async () => {
        url = await target.next();
      },
    });
  } finally {
    await target.cleanup();
  }
}
process.stdout.write(
  `${JSON.stringify({ tasks, machine: { cpus: navigator.hardwareConcurrency }, results }, null, 2)}\n`,
);
