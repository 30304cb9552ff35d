/** Lease locks with an owner token; expiry by the database clock. */
import { type Queryable, table } from "../database.ts";

/** Takes `key` for `owner` if it is free or its holder's lease ran out. */
export async function acquireLock(
  sql: Queryable,
  schema: string,
  key: string,
  owner: string,
  ttlMs: number,
): Promise<boolean> {
  const rows = await sql`
    INSERT INTO ${table(sql, schema, "locks")} AS l (key, owner, expires_at)
    VALUES (${key}, ${owner}, now() + interval '1 millisecond' * ${ttlMs}::double precision)
    ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
    WHERE l.expires_at <= now()
    RETURNING key`;
  return rows.length > 0;
}

/** Extends `owner`'s live lock on `key` to now + ttlMs. */
export async function renewLock(
  sql: Queryable,
  schema: string,
  key: string,
  owner: string,
  ttlMs: number,
): Promise<boolean> {
  const rows = await sql`
    UPDATE ${table(sql, schema, "locks")}
    SET expires_at = now() + interval '1 millisecond' * ${ttlMs}::double precision
    WHERE key = ${key} AND owner = ${owner} AND expires_at > now()
    RETURNING key`;
  return rows.length > 0;
}

/** Deletes `owner`'s live lock on `key`. */
export async function releaseLock(
  sql: Queryable,
  schema: string,
  key: string,
  owner: string,
): Promise<boolean> {
  const rows = await sql`
    DELETE FROM ${table(sql, schema, "locks")}
    WHERE key = ${key} AND owner = ${owner} AND expires_at > now()
    RETURNING key`;
  return rows.length > 0;
}

/** The live holder of `key`, or null. */
export async function lockOwner(
  sql: Queryable,
  schema: string,
  key: string,
): Promise<string | null> {
  const [row] = await sql<{ owner: string }[]>`
    SELECT owner FROM ${table(sql, schema, "locks")} WHERE key = ${key} AND expires_at > now()`;
  return row?.owner ?? null;
}
