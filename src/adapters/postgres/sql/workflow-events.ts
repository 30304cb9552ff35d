/**
 * Events kept for runs that start waiting on their topic later. Keeping an event (an emit
 * that found no watcher) and taking one (a run suspending on the topic) both hold the
 * topic's transaction-scoped advisory lock first, so one always sees what the other
 * committed: an event is either kept and then taken, or finds the watcher.
 */
import type { KeptEvent } from "../../../workflow/run-transitions.ts";
import { type Queryable, table } from "../database.ts";

const events = (sql: Queryable, schema: string) => table(sql, schema, "workflow_events");

/** Serialises keeping and taking the events of `topic` until the transaction ends. */
export async function lockTopic(sql: Queryable, schema: string, topic: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`stem.wf-topic:${schema}:${topic}`}))`;
}

export async function keepEvent(
  sql: Queryable,
  schema: string,
  topic: string,
  event: KeptEvent,
): Promise<void> {
  await sql`
    INSERT INTO ${events(sql, schema)} (topic, payload, expires_at)
    VALUES (${topic}, ${JSON.stringify(event.payload === undefined ? null : event.payload)},
      ${event.expiresAt})`;
}

/** Takes (deletes and returns) the oldest event of `topic` still kept at `now`. */
export async function takeEvent(
  sql: Queryable,
  schema: string,
  topic: string,
  now: number,
): Promise<KeptEvent | null> {
  await sql`DELETE FROM ${events(sql, schema)} WHERE topic = ${topic} AND expires_at <= ${now}`;
  const [row] = await sql<{ payload: string; expires_at: number }[]>`
    DELETE FROM ${events(sql, schema)} WHERE seq = (
      SELECT seq FROM ${events(sql, schema)} WHERE topic = ${topic}
      ORDER BY seq LIMIT 1)
    RETURNING payload, expires_at`;
  return row ? { payload: JSON.parse(row.payload), expiresAt: Number(row.expires_at) } : null;
}

export async function deleteExpiredEvents(
  sql: Queryable,
  schema: string,
  now: number,
): Promise<void> {
  await sql`DELETE FROM ${events(sql, schema)} WHERE expires_at <= ${now}`;
}
