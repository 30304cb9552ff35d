/**
 * The Postgres suite: the same workload for Stem (on Bun), graphile-worker and pg-boss
 * (on Node) on one Postgres server in one run, each phase in its own schema, dropped
 * after. Each system runs twice: with its defaults and with its own documented batching
 * (Stem: the worker's prefetch, see STEMS; graphile-options.mjs, pgboss-options.mjs).
 * With several rounds (rotating which system goes first) each figure is the median.
 *
 * Results: Stem keeps every task's result (task_results); pg-boss keeps completed jobs
 * with their output (its default); graphile-worker deletes a job once it completed, so
 * it stores no results at all.
 *
 * Every ratio reads "above 1 means Stem is better": throughput ratios are Stem/peer,
 * latency ratios are peer/Stem.
 */
import { cpus, release, type } from "node:os";
import postgres from "postgres";
import { type Figures, medians, ratiosOf } from "./figures.ts";
import {
  type Peer,
  type PeerWorkloadResult,
  runPeerWorkload,
  type Variant,
} from "./peer-workload.ts";
import { postgresSchemas } from "./postgres-schemas.ts";
import { postgresTargets } from "./postgres-targets.ts";
import { runStemWorkload, type WorkloadResult } from "./stem-workload.ts";

export interface PostgresSuiteOptions {
  postgresUrl: string;
  tasks: number;
  latencySamples: number;
  rounds: number;
  /** A peer's drain or latency run stops after this long (pg-boss at its defaults is slow). */
  capMs: number;
  /** Which systems to run (default all): stem, graphile-default, graphile-batched, pgboss-default, pgboss-batched. */
  systems?: string[];
}

/** A figure, flattened: name → value. */

const CONCURRENCIES = [1, 10, 100];
/**
 * Stem twice, like the peers: with the worker's default prefetch (equal to the
 * concurrency: each claim takes only what free slots can run), and with its batching
 * knob, a prefetch of four times the concurrency, at least 400 (the worker claims a
 * quarter of it per round trip, so claims overlap with runs and writes; the same as in
 * the Redis suite, and comparable to graphile-worker's 500-job local queue).
 */
const STEMS: {
  name: string;
  prefetch: (concurrency: number) => number;
  ignoreResult?: boolean;
}[] = [
  { name: "stem-default", prefetch: (c) => c },
  { name: "stem-batched", prefetch: (c) => Math.max(4 * c, 400) },
  // Batched with `ignoreResult`: keeps no results, like graphile-worker.
  { name: "stem-batched-ignore-result", prefetch: (c) => Math.max(4 * c, 400), ignoreResult: true },
];
const PEERS: { name: string; peer: Peer; variant: Variant }[] = [
  { name: "graphile-default", peer: "graphile", variant: "default" },
  { name: "graphile-batched", peer: "graphile", variant: "batched" },
  { name: "pgboss-default", peer: "pgboss", variant: "default" },
  { name: "pgboss-batched", peer: "pgboss", variant: "batched" },
];
export const SYSTEMS = [...STEMS.map((s) => s.name), ...PEERS.map((p) => p.name)];

/** Figures where lower is better (latency); the other figures are throughputs. */
/** Figures the issue sets targets on: Stem's drains against the best peer at its defaults. */
const TARGET_RATIO = 1.5;
const TARGET_FIGURES = ["drainC10PerSec", "drainC100PerSec"];
const TARGET_LATENCY_P50_MS = 5;

function stemFigures(r: WorkloadResult): Figures {
  const out: Figures = {
    enqueueOneByOnePerSec: r.enqueueOneByOnePerSec,
    enqueueBatchedPerSec: r.enqueueBatchedPerSec,
  };
  for (const [c, v] of Object.entries(r.drainPerSec)) out[`drain${c.toUpperCase()}PerSec`] = v;
  out.latencyP50Ms = r.latencyMs.p50;
  out.latencyP99Ms = r.latencyMs.p99;
  return out;
}

/** A peer's figures, and notes on capped runs (rates over the capped window). */
function peerFigures(r: PeerWorkloadResult): { figures: Figures; capped: string[] } {
  const figures: Figures = {
    enqueueOneByOnePerSec: r.enqueueOneByOnePerSec,
    enqueueBatchedPerSec: r.enqueueBatchedPerSec,
  };
  const capped: string[] = [];
  for (const [c, d] of Object.entries(r.drain)) {
    figures[`drain${c.toUpperCase()}PerSec`] = d.perSec;
    if (d.capped) capped.push(`drain ${c}: ${d.completed} jobs completed before the cap`);
  }
  figures.latencyP50Ms = r.latencyMs.p50;
  figures.latencyP99Ms = r.latencyMs.p99;
  if (r.latencyMs.capped) capped.push(`latency: ${r.latencyMs.samples} samples before the cap`);
  return { figures, capped };
}

async function serverVersion(url: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ server_version: string }[]>`SHOW server_version`;
    return row.server_version;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function packageVersion(name: string): Promise<string> {
  const pkg = await Bun.file(
    new URL(`../node_modules/${name}/package.json`, import.meta.url),
  ).json();
  return pkg.version as string;
}

async function nodeVersion(): Promise<string> {
  const proc = Bun.spawn(["node", "--version"], { stdout: "pipe" });
  const text = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error("`node` is needed on the PATH to run the peers");
  return text.trim();
}

async function stemRound(o: PostgresSuiteOptions, stem: (typeof STEMS)[number]): Promise<Figures> {
  const schemas = postgresSchemas(o.postgresUrl, "stem_bench");
  let url = "";
  try {
    return stemFigures(
      await runStemWorkload({
        get url() {
          return url;
        },
        tasks: o.tasks,
        concurrencies: CONCURRENCIES,
        latencySamples: o.latencySamples,
        prefetch: stem.prefetch,
        ignoreResult: stem.ignoreResult,
        reset: async () => {
          url = `${o.postgresUrl}${o.postgresUrl.includes("?") ? "&" : "?"}schema=${await schemas.next()}`;
        },
      }),
    );
  } finally {
    await schemas.cleanup();
  }
}

async function peerRound(
  o: PostgresSuiteOptions,
  p: (typeof PEERS)[number],
): Promise<{ figures: Figures; capped: string[] }> {
  const schemas = postgresSchemas(o.postgresUrl, `${p.peer}_bench`);
  let schema = "";
  try {
    return peerFigures(
      await runPeerWorkload({
        peer: p.peer,
        variant: p.variant,
        postgresUrl: o.postgresUrl,
        get schema() {
          return schema;
        },
        tasks: o.tasks,
        concurrencies: CONCURRENCIES,
        latencySamples: o.latencySamples,
        capMs: o.capMs,
        reset: async () => {
          schema = await schemas.next();
        },
      }),
    );
  } finally {
    await schemas.cleanup();
  }
}

/**
 * Drops this run's schemas a failed phase could not drop (each phase drops its own; names
 * end in `_<pid>_<n>`, see postgres-schemas.ts).
 */
async function dropLeftoverSchemas(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ name: string }[]>`
      SELECT schema_name AS name FROM information_schema.schemata
      WHERE schema_name ~ ${`^(stem|graphile|pgboss)_bench_${process.pid}_[0-9]+$`}`;
    for (const { name } of rows) await sql.unsafe(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** One round of one system. */
async function systemRound(
  o: PostgresSuiteOptions,
  name: string,
): Promise<{ figures: Figures; capped: string[] }> {
  const stem = STEMS.find((s) => s.name === name);
  if (stem) return { figures: await stemRound(o, stem), capped: [] };
  return peerRound(o, PEERS.find((p) => p.name === name)!);
}

/** Waits until a fresh connection answers `SELECT 1` (after a server restart). */
async function waitForServer(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`SELECT 1`;
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(500);
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {});
    }
  }
}

/**
 * Runs a system's round, once more if it failed: the server is shared, and something
 * else restarting it mid-phase (a restart test) breaks the phase, not the system.
 */
async function withRetry<T>(
  o: PostgresSuiteOptions,
  name: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    process.stderr.write(
      `postgres-vs-peers: ${name} failed (${(error as Error).message}); waiting for the server and running it again\n`,
    );
    await waitForServer(o.postgresUrl, 60_000);
    return run();
  }
}

export async function runPostgresVsPeers(o: PostgresSuiteOptions) {
  const selected = o.systems ?? SYSTEMS;
  for (const name of selected) {
    if (!SYSTEMS.includes(name))
      throw new Error(`unknown system "${name}" (use ${SYSTEMS.join(", ")})`);
  }
  const rounds = new Map<string, Figures[]>(selected.map((name) => [name, []]));
  const cappedNotes: Record<string, string[]> = {};
  for (let round = 0; round < o.rounds; round++) {
    // Rotate who goes first so no system always meets a warmer (or busier) machine.
    const order = selected.map((_, i) => selected[(i + round) % selected.length]);
    for (const name of order) {
      process.stderr.write(`postgres-vs-peers: round ${round + 1}/${o.rounds}, ${name}\n`);
      const { figures, capped } = await withRetry(o, name, () => systemRound(o, name));
      rounds.get(name)!.push(figures);
      if (capped.length > 0) cappedNotes[`${name} (round ${round + 1})`] = capped;
    }
  }
  await dropLeftoverSchemas(o.postgresUrl);
  const results: Record<string, Figures> = {};
  for (const [name, figures] of rounds) results[name] = medians(figures);

  const peerNames = Object.keys(results).filter((n) => !n.startsWith("stem"));
  const defaults = peerNames.filter((n) => n.endsWith("-default"));
  const ratios: Record<string, Figures> = {};
  const targets: Record<string, Record<string, unknown>> = {};
  for (const stemName of Object.keys(results).filter((n) => n.startsWith("stem"))) {
    const stem = results[stemName];
    for (const name of peerNames) ratios[`${stemName}/${name}`] = ratiosOf(stem, results[name]);
    const met: Record<string, unknown> = {};
    for (const key of TARGET_FIGURES) {
      if (defaults.length === 0) break;
      const best = defaults.reduce((a, b) => (results[a][key] >= results[b][key] ? a : b));
      const ratio = Number((stem[key] / results[best][key]).toFixed(2));
      met[key] = {
        bestPeerAtDefaults: best,
        ratio,
        ratioAtLeast: TARGET_RATIO,
        met: ratio >= TARGET_RATIO,
        ...(results["graphile-batched"]
          ? {
              ratioToGraphileBatched: Number(
                (stem[key] / results["graphile-batched"][key]).toFixed(2),
              ),
            }
          : {}),
      };
    }
    met.latencyP50Ms = {
      value: stem.latencyP50Ms,
      below: TARGET_LATENCY_P50_MS,
      met: stem.latencyP50Ms < TARGET_LATENCY_P50_MS,
    };
    targets[stemName] = met;
  }

  return {
    suite: "postgres-vs-peers",
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      os: `${type()} ${release()}`,
      postgres: await serverVersion(o.postgresUrl),
      bun: Bun.version,
      node: await nodeVersion(),
      graphileWorker: await packageVersion("graphile-worker"),
      pgBoss: await packageVersion("pg-boss"),
    },
    tasks: o.tasks,
    latencySamples: o.latencySamples,
    rounds: o.rounds,
    peerCapMs: o.capMs,
    stemPrefetch: Object.fromEntries(
      STEMS.map((s) => [
        s.name,
        Object.fromEntries(CONCURRENCIES.map((c) => [`c${c}`, s.prefetch(c)])),
      ]),
    ),
    resultsKept: {
      stem: "yes: every task's status and result in task_results",
      "stem-batched-ignore-result": "no: tasks enqueued with ignoreResult write no status",
      "pg-boss": "yes: completed jobs stay in its job table with their output (its default)",
      "graphile-worker": "no: a completed job is deleted and nothing of it is kept",
    },
    ratioMeaning:
      "above 1 means Stem is better: throughput ratios are Stem/peer, latency ratios are peer/Stem",
    results,
    ratios,
    targets,
    targetLines: postgresTargets(results),
    capped: Object.keys(cappedNotes).length > 0 ? cappedNotes : undefined,
    perRound: o.rounds > 1 ? Object.fromEntries(rounds) : undefined,
  };
}
