/**
 * The SQLite-vs-plainjob suite: enqueue speed of Stem's SQLite adapter against plainjob
 * (the fastest SQLite job queue for Bun) in one run, both on bun:sqlite in this process,
 * each phase on a fresh file in WAL mode with synchronous=NORMAL (plainjob sets both
 * itself, as Stem does). Phases: one at a time (each call awaited) and in batches of
 * 1,000, for Stem with results kept (its default), Stem with `ignoreResult`, and plainjob
 * (`queue.add` / `queue.addMany`, which keep no result). With several rounds (the order of
 * the systems rotates) each figure is the median. Ratios are Stem ÷ plainjob.
 */

import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, release, tmpdir, type } from "node:os";
import { join } from "node:path";
import { defineQueue, bun as plainjobConnection } from "plainjob";
import { StemClient } from "../src/index.ts";
import { type Figures, median } from "./figures.ts";

export interface SqliteSuiteOptions {
  tasks: number;
  rounds: number;
}

/** Untimed enqueues before each timed phase (JIT warm-up), for every system. */
const WARMUP = 1000;
const BATCH = 1000;

/** The targets: Stem's figure ÷ plainjob's, at least. */
const TARGETS: { figure: string; stem: string; peer: string; ratioAtLeast: number }[] = [
  {
    figure: "enqueue one at a time, ignoreResult",
    stem: "stemIgnoreResultOneByOne",
    peer: "plainjobOneByOne",
    ratioAtLeast: 1,
  },
  {
    figure: "enqueue in batches of 1,000, ignoreResult",
    stem: "stemIgnoreResultBatched",
    peer: "plainjobBatched",
    ratioAtLeast: 1,
  },
  {
    figure: "enqueue one at a time, results kept",
    stem: "stemOneByOne",
    peer: "plainjobOneByOne",
    ratioAtLeast: 0.6,
  },
  {
    figure: "enqueue in batches of 1,000, results kept",
    stem: "stemBatched",
    peer: "plainjobBatched",
    ratioAtLeast: 0.5,
  },
];

const perSec = (n: number, ms: number) => Math.round((n / ms) * 1000);

/** A fresh database file per phase, in a folder removed by `cleanup`. */
function files() {
  const dir = mkdtempSync(join(tmpdir(), "stem-vs-plainjob-"));
  let n = 0;
  return {
    next: () => join(dir, `phase-${++n}.db`),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function stemPhases(file: () => string, tasks: number, ignoreResult: boolean) {
  const options = ignoreResult ? { ignoreResult } : {};
  let client = await StemClient.fromUrl(`sqlite://${file()}`);
  for (let i = 0; i < WARMUP; i++)
    await client.enqueue("bench.noop", {}, { ...options, queue: "warmup" });
  let t = performance.now();
  for (let i = 0; i < tasks; i++) await client.enqueue("bench.noop", {}, options);
  const oneByOne = perSec(tasks, performance.now() - t);
  await client.close();

  client = await StemClient.fromUrl(`sqlite://${file()}`);
  const calls = (queue?: string) =>
    Array.from({ length: BATCH }, () => ({
      name: "bench.noop",
      args: {},
      options: queue ? { ...options, queue } : options,
    }));
  for (let i = 0; i < WARMUP; i += BATCH) await client.stem.enqueueMany(calls("warmup"));
  t = performance.now();
  for (let i = 0; i < tasks; i += BATCH) await client.stem.enqueueMany(calls());
  const batched = perSec(tasks, performance.now() - t);
  await client.close();
  return { oneByOne, batched };
}

/** plainjob logs every add at debug level to the console unless given a logger. */
const silent = { error() {}, warn() {}, info() {}, debug() {} };

async function plainjobPhases(file: () => string, tasks: number) {
  const open = () =>
    defineQueue({
      connection: plainjobConnection(new Database(file(), { strict: true })),
      logger: silent,
    });
  let queue = open();
  for (let i = 0; i < WARMUP; i++) await queue.add("warmup", {});
  let t = performance.now();
  for (let i = 0; i < tasks; i++) await queue.add("bench.noop", {});
  const oneByOne = perSec(tasks, performance.now() - t);
  queue.close();

  queue = open();
  const data = () => Array.from({ length: BATCH }, () => ({}));
  for (let i = 0; i < WARMUP; i += BATCH) await queue.addMany("warmup", data());
  t = performance.now();
  for (let i = 0; i < tasks; i += BATCH) await queue.addMany("bench.noop", data());
  const batched = perSec(tasks, performance.now() - t);
  queue.close();
  return { oneByOne, batched };
}

async function round(o: SqliteSuiteOptions, first: number): Promise<Figures> {
  const paths = files();
  try {
    const out: Figures = {};
    const systems: (() => Promise<void>)[] = [
      async () => {
        const r = await stemPhases(paths.next, o.tasks, false);
        out.stemOneByOne = r.oneByOne;
        out.stemBatched = r.batched;
      },
      async () => {
        const r = await stemPhases(paths.next, o.tasks, true);
        out.stemIgnoreResultOneByOne = r.oneByOne;
        out.stemIgnoreResultBatched = r.batched;
      },
      async () => {
        const r = await plainjobPhases(paths.next, o.tasks);
        out.plainjobOneByOne = r.oneByOne;
        out.plainjobBatched = r.batched;
      },
    ];
    // Rotate who goes first so no system always meets a warmer (or busier) machine.
    for (let i = 0; i < systems.length; i++) await systems[(first + i) % systems.length]();
    return out;
  } finally {
    paths.cleanup();
  }
}

function sqliteVersion(): string {
  const db = new Database(":memory:");
  try {
    return db.query<{ v: string }, []>("SELECT sqlite_version() AS v").get()?.v ?? "unknown";
  } finally {
    db.close();
  }
}

/** Runs the suite and returns its JSON report. */
export async function runSqliteVsPlainjob(o: SqliteSuiteOptions): Promise<Record<string, unknown>> {
  const rounds: Figures[] = [];
  for (let r = 0; r < o.rounds; r++) rounds.push(await round(o, r));
  const figures: Figures = {};
  for (const key of Object.keys(rounds[0])) figures[key] = median(rounds.map((f) => f[key]));
  const targets = TARGETS.map(({ figure, stem, peer, ratioAtLeast }) => {
    const ratio = Number((figures[stem] / figures[peer]).toFixed(2));
    return {
      figure,
      stem: figures[stem],
      plainjob: figures[peer],
      ratio,
      ratioAtLeast,
      met: ratio >= ratioAtLeast,
    };
  });
  return {
    suite: "sqlite-vs-plainjob",
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      os: `${type()} ${release()}`,
      bun: Bun.version,
      sqlite: sqliteVersion(),
    },
    tasks: o.tasks,
    rounds: o.rounds,
    warmup: WARMUP,
    ratioMeaning: "Stem's enqueues per second ÷ plainjob's; above 1 means Stem is faster",
    figures,
    targets,
    perRound: o.rounds > 1 ? rounds : undefined,
  };
}
