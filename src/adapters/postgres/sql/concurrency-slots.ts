/**
 * Global concurrency slots: leased rows per key, on the database clock. An acquire is
 * one transaction that first upserts (and so locks) the key's limit row: concurrent
 * acquires of a key wait for each other, and each then counts committed slots.
 */
import type postgres from "postgres";
import type { SlotUsage } from "../../contracts.ts";
import { type Queryable, table } from "../database.ts";

/** Lease deadline `ms` from now on the database clock (now() is the transaction's start). */
const leaseEnd = (sql: Queryable, ms: number) =>
  sql`clock_timestamp() + interval '1 millisecond' * ${ms}::double precision`;

/** Takes a slot of `key` for `holder` when fewer than `limit` others hold a live one. */
export function acquireSlot(
  sql: postgres.Sql,
  schema: string,
  key: string,
  holder: string,
  limit: number,
  leaseMs: number,
): Promise<boolean> {
  return sql.begin(async (tx) => {
    const slots = table(tx, schema, "concurrency_slots");
    await tx`
      INSERT INTO ${table(tx, schema, "concurrency_limits")} (key, max_slots)
      VALUES (${key}, ${limit})
      ON CONFLICT (key) DO UPDATE SET max_slots = excluded.max_slots`;
    await tx`DELETE FROM ${slots} WHERE key = ${key} AND expires_at <= clock_timestamp()`;
    const rows = await tx`
      INSERT INTO ${slots} (key, holder, expires_at)
      SELECT ${key}, ${holder}, ${leaseEnd(tx, leaseMs)}
      WHERE (SELECT count(*) FROM ${slots} WHERE key = ${key} AND holder <> ${holder}) < ${limit}
      ON CONFLICT (key, holder) DO UPDATE SET expires_at = excluded.expires_at
      RETURNING holder`;
    return rows.length > 0;
  });
}

/** Extends `holder`'s live slot of `key`. */
export async function renewSlot(
  sql: Queryable,
  schema: string,
  key: string,
  holder: string,
  leaseMs: number,
): Promise<boolean> {
  const rows = await sql`
    UPDATE ${table(sql, schema, "concurrency_slots")}
    SET expires_at = ${leaseEnd(sql, leaseMs)}
    WHERE key = ${key} AND holder = ${holder} AND expires_at > clock_timestamp()
    RETURNING holder`;
  return rows.length > 0;
}

/** Deletes `holder`'s slot of `key`; true when it was live. */
export async function releaseSlot(
  sql: Queryable,
  schema: string,
  key: string,
  holder: string,
): Promise<boolean> {
  const rows = await sql<{ live: boolean }[]>`
    DELETE FROM ${table(sql, schema, "concurrency_slots")}
    WHERE key = ${key} AND holder = ${holder}
    RETURNING expires_at > clock_timestamp() AS live`;
  return rows.some((r) => r.live);
}

/** Records the limit of `key`. */
export async function setSlotLimit(
  sql: Queryable,
  schema: string,
  key: string,
  limit: number,
): Promise<void> {
  await sql`
    INSERT INTO ${table(sql, schema, "concurrency_limits")} (key, max_slots)
    VALUES (${key}, ${limit})
    ON CONFLICT (key) DO UPDATE SET max_slots = excluded.max_slots`;
}

/** Limits and live holders, of one key or (without `key`) of every key, sorted by key. */
export async function slotUsages(
  sql: Queryable,
  schema: string,
  key?: string,
): Promise<SlotUsage[]> {
  const rows = await sql<{ key: string; limit: number; holders: string[] }[]>`
    SELECT l.key, l.max_slots AS limit,
      coalesce(array_agg(s.holder ORDER BY s.holder COLLATE "C")
        FILTER (WHERE s.holder IS NOT NULL), '{}') AS holders
    FROM ${table(sql, schema, "concurrency_limits")} l
    LEFT JOIN ${table(sql, schema, "concurrency_slots")} s
      ON s.key = l.key AND s.expires_at > clock_timestamp()
    ${key === undefined ? sql`` : sql`WHERE l.key = ${key}`}
    GROUP BY l.key, l.max_slots
    ORDER BY l.key COLLATE "C"`;
  return rows.map((r) => ({
    key: r.key,
    limit: r.limit,
    used: r.holders.length,
    holders: r.holders,
  }));
}
