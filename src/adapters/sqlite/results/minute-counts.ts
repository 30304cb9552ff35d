/** Per-minute counters: one row per (minute, series, counter), added to in place. */
import type { MinuteCount, MinuteCountQuery } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";

const ADD = `
INSERT INTO stem_minute_counts (minute, series, counter, value) VALUES (?, ?, ?, ?)
ON CONFLICT (minute, series, counter) DO UPDATE SET value = value + excluded.value`;

const READ = `
SELECT minute, series, counter, value FROM stem_minute_counts
WHERE minute >= $from AND minute < $to AND ($series IS NULL OR series = $series)
ORDER BY minute, series, counter`;

const PRUNE = "DELETE FROM stem_minute_counts WHERE minute < ?";

export function addMinuteCounts(db: SqliteDatabase, counts: MinuteCount[]): void {
  if (counts.length === 0) return;
  const add = db.statement<unknown, [number, string, string, number]>(ADD);
  db.write(() => {
    for (const c of counts) add.run(c.minute, c.series, c.counter, c.value);
  });
}

export function readMinuteCounts(db: SqliteDatabase, query: MinuteCountQuery): MinuteCount[] {
  const read = db.statement<MinuteCount, [{ from: number; to: number; series: string | null }]>(
    READ,
  );
  return db.single(() =>
    read.all({ from: query.from, to: query.to, series: query.series ?? null }),
  );
}

export function pruneMinuteCounts(db: SqliteDatabase, before: number): void {
  const prune = db.statement<unknown, [number]>(PRUNE);
  db.single(() => prune.run(before), true);
}
