/**
 * `npm run bench [-- --adapter sqlite,redis,postgres] [--tasks 20000] [--latency 1000]`:
 * runs the Stem workload on each adapter and prints JSON; with sqlite, also the
 * sqlite-vs-plainjob suite ([--rounds N]).
 * `npm run bench -- --suite redis-vs-bullmq [--rounds 3]`: Stem against BullMQ on the same
 * Redis (see redis-vs-bullmq.ts).
 * `npm run bench -- --suite postgres-vs-peers [--rounds 3] [--systems stem-batched,graphile-batched]
 * [--peer-cap 30]`: Stem against graphile-worker and pg-boss on the same Postgres (see
 * postgres-vs-peers.ts).
 * `npm run bench -- --suite beat [--adapter sqlite,redis]`: Beat's dispatch drift for 1,000
 * entries due in the same second (see beat-drift.ts).
 * `npm run bench -- --suite startup [--rounds 21]`: start-up time of dist/stem (see startup.ts).
 * `npm run bench -- --suite sqlite-vs-plainjob [--rounds 3]`: Stem's SQLite enqueue against
 * plainjob in the same run (see sqlite-vs-plainjob.ts).
 * `npm run bench -- --suite large-queue [--adapter sqlite,redis,postgres] [--tasks 1000000]`:
 * one queue of that many tasks: `stem observe queues` store time and purge time (see
 * large-queue.ts).
 * `npm run bench -- --suite scale-out [--adapter redis,postgres,redis-cluster] [--tasks 40000]
 * [--workers 1,2,4] [--queues 4] [--million 1000000]`: drain throughput with several worker
 * processes, and a million queued tasks' memory (see scale-out.ts).
 */
import { parseArgs } from "node:util";
import { runPostgresVsPeers } from "./postgres-vs-peers.ts";
import { runRedisVsBullmq } from "./redis-vs-bullmq.ts";
import { runStemWorkload } from "./stem-workload.ts";
import { POSTGRES_URL, REDIS_URL, storeTarget } from "./targets.ts";

const { values } = parseArgs({
  options: {
    adapter: { type: "string", default: "sqlite,redis,postgres" },
    tasks: { type: "string", default: "20000" },
    latency: { type: "string", default: "1000" },
    suite: { type: "string" },
    rounds: { type: "string", default: "1" },
    systems: { type: "string" },
    "peer-cap": { type: "string", default: "30" },
    workers: { type: "string", default: "1,2,4" },
    queues: { type: "string", default: "4" },
    million: { type: "string", default: "0" },
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
} else if (values.suite === "sqlite-vs-plainjob") {
  const { runSqliteVsPlainjob } = await import("./sqlite-vs-plainjob.ts");
  const report = await runSqliteVsPlainjob({ tasks, rounds: Number(values.rounds) });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exit(0);
} else if (values.suite === "beat") {
  const { beatTargets, runBeatSuite } = await import("./beat-drift.ts");
  const results = await runBeatSuite(values.adapter!.split(","));
  process.stdout.write(
    `${JSON.stringify({ suite: "beat-drift", entries: 1000, results, targets: beatTargets(results) }, null, 2)}\n`,
  );
  process.exit(0);
} else if (values.suite === "startup") {
  const { runStartupSuite } = await import("./startup.ts");
  const report = await runStartupSuite(Math.max(Number(values.rounds), 21));
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exit(0);
} else if (values.suite === "large-queue") {
  const { largeQueueTargets, runLargeQueue } = await import("./large-queue.ts");
  const results = await runLargeQueue(values.adapter!.split(","), tasks);
  process.stdout.write(
    `${JSON.stringify({ suite: "large-queue", results, targets: largeQueueTargets(results) }, null, 2)}\n`,
  );
  process.exit(0);
} else if (values.suite === "scale-out") {
  const { runScaleOut } = await import("./scale-out.ts");
  const report = await runScaleOut({
    targets: values.adapter!.split(","),
    tasks,
    workers: values.workers!.split(",").map(Number),
    queues: Number(values.queues),
    million: Number(values.million),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exit(0);
} else if (values.suite !== undefined) {
  throw new Error(
    `unknown suite "${values.suite}" (use redis-vs-bullmq, postgres-vs-peers, sqlite-vs-plainjob, beat, startup, large-queue or scale-out)`,
  );
}
const results: Record<string, unknown> = {};

for (const adapter of values.adapter!.split(",")) {
  const target = storeTarget(adapter, "stem-bench");
  let url = "";
  try {
    results[adapter] = await runStemWorkload({
      get url() {
        return url;
      },
      tasks,
      concurrencies: [1, 10, 100],
      latencySamples: Number(values.latency),
      // Each drain again with tasks that keep no result: what storing results costs.
      compareIgnoreResult: true,
      reset: async () => {
        url = await target.next();
      },
    });
  } finally {
    await target.cleanup();
  }
}
// SQLite's enqueue targets are ratios to plainjob, measured in the same run.
if (values.adapter!.split(",").includes("sqlite")) {
  const { runSqliteVsPlainjob } = await import("./sqlite-vs-plainjob.ts");
  results.sqliteVsPlainjob = await runSqliteVsPlainjob({ tasks, rounds: Number(values.rounds) });
}
process.stdout.write(
  `${JSON.stringify({ tasks, machine: { cpus: navigator.hardwareConcurrency }, results }, null, 2)}\n`,
);
