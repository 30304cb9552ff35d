/** Per-minute counters: one row per (minute, series, counter), added to in place. */
import type { MinuteCount, MinuteCountQuery } from "../../contracts.ts";
import { mergeCells } from "../../../core/minute-counts.ts";
import { type Queryable, json, table } from "../database.ts";

/**
 * Adds the values in one statement. Cells are merged first (one statement cannot update
 * a row twice) and written in key order, so concurrent writers lock rows in the same
 * order and never deadlock.
 */
export async function addMinuteCounts(
  sql: Queryable,
  schema: string,
  counts: MinuteCount[],
): Promise<void> {
  if (counts.length === 0) return;
  const cells = mergeCells(counts).sort(
    (a, b) =>
      a.minute - b.minute ||
      (a.series < b.series ? -1 : a.series > b.series ? 1 : 0) ||
      (a.counter < b.counter ? -1 : a.counter > b.counter ? 1 : 0),
  );
  await sql`
    INSERT INTO ${table(sql, schema, "minute_counts")} AS m (minute, series, counter, value)
    SELECT (c->>'minute')::bigint, c->>'series', c->>'counter', (c->>'value')::double precision
    FROM jsonb_array_elements(${json(sql, cells)}) WITH ORDINALITY AS t(c, n)
    ORDER BY n
    ON CONFLICT (minute, series, counter) DO UPDATE SET value = m.value + excluded.value`;
}

export async function readMinuteCounts(
  sql: Queryable,
  schema: string,
  query: MinuteCountQuery,
): Promise<MinuteCount[]> {
  const series = query.series ?? null;
  const rows = await sql<{ minute: string; series: string; counter: string; value: number }[]>`
    SELECT minute, series, counter, value FROM ${table(sql, schema, "minute_counts")}
    WHERE minute >= ${query.from}::bigint AND minute < ${query.to}::bigint
      AND (${series}::text IS NULL OR series = ${series}::text)
    ORDER BY minute, series, counter`;
  return rows.map((r) => ({ ...r, minute: Number(r.minute) }));
}

export async function pruneMinuteCounts(
  sql: Queryable,
  schema: string,
  before: number,
): Promise<void> {
  await sql`DELETE FROM ${table(sql, schema, "minute_counts")} WHERE minute < ${before}::bigint`;
}
