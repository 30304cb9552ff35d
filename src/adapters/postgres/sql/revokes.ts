/** Revocation entries keyed by namespace and task id, versioned. */
import type { RevokeEntry } from "../../contracts.ts";
import { type Queryable, json, table } from "../database.ts";

/**
 * Stores each entry whose version is higher than the stored one (one statement), then
 * returns what is stored for each given entry, in the given order.
 */
export async function upsertRevokes(
  sql: Queryable,
  schema: string,
  entries: RevokeEntry[],
): Promise<RevokeEntry[]> {
  if (entries.length === 0) return [];
  const key = (e: { namespace: string; taskId: string }) => `${e.namespace}\u0000${e.taskId}`;
  const highest = new Map<string, RevokeEntry>();
  for (const e of entries) {
    const seen = highest.get(key(e));
    if (!seen || e.version > seen.version) highest.set(key(e), e);
  }
  const revokes = table(sql, schema, "revokes");
  const rows = await sql<{ entry: RevokeEntry }[]>`
    WITH given AS (
      SELECT e->>'namespace' AS namespace, e->>'taskId' AS task_id,
        (e->>'version')::numeric AS version, e AS entry,
        to_timestamp((e->>'expiresAt')::double precision / 1000) AS expires_at
      FROM jsonb_array_elements(${json(sql, [...highest.values()])}) AS t(e)
    ), stored AS (
      INSERT INTO ${revokes} AS r (namespace, task_id, version, entry, expires_at)
      SELECT namespace, task_id, version, entry, expires_at FROM given
      ON CONFLICT (namespace, task_id) DO UPDATE SET
        version = excluded.version, entry = excluded.entry, expires_at = excluded.expires_at
      WHERE r.version < excluded.version
      RETURNING r.namespace, r.task_id, r.entry
    )
    SELECT coalesce(s.entry, r.entry) AS entry
    FROM given g
    LEFT JOIN stored s ON s.namespace = g.namespace AND s.task_id = g.task_id
    LEFT JOIN ${revokes} r ON r.namespace = g.namespace AND r.task_id = g.task_id`;
  const byKey = new Map(rows.map((r) => [key(r.entry), r.entry]));
  return entries.map((e) => byKey.get(key(e))!);
}

/** A namespace's entries (those above `afterVersion` when given), version ascending. */
export async function listRevokes(
  sql: Queryable,
  schema: string,
  namespace: string,
  afterVersion?: number,
): Promise<RevokeEntry[]> {
  const rows = await sql<{ entry: RevokeEntry }[]>`
    SELECT entry FROM ${table(sql, schema, "revokes")}
    WHERE namespace = ${namespace}
      AND (${afterVersion ?? null}::numeric IS NULL OR version > ${afterVersion ?? null}::numeric)
    ORDER BY version, task_id`;
  return rows.map((r) => r.entry);
}

/** Deletes a namespace's entries with expiresAt <= now; returns how many. */
export async function pruneRevokes(
  sql: Queryable,
  schema: string,
  namespace: string,
  now: number,
): Promise<number> {
  const result = await sql`
    DELETE FROM ${table(sql, schema, "revokes")}
    WHERE namespace = ${namespace} AND expires_at <= ${new Date(now)}`;
  return result.count;
}
