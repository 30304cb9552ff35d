/** Control messages over NOTIFY; those too large for a payload go through a table. */
import { json, type Queryable, table } from "../database.ts";

/** NOTIFY payloads must stay under 8000 bytes; leave room for the envelope. */
export const MAX_INLINE_PAYLOAD_BYTES = 7500;

/**
 * What travels in a control NOTIFY: the message itself, or the id of its stored copy.
 * `n` numbers the messages of one statement: Postgres delivers identical payloads of one
 * transaction only once.
 */
export type ControlPayload =
  | { channel: string; message: Record<string, unknown>; n?: number }
  | { channel: string; ref: string };

/**
 * Sends `message` on the schema's control channel, inline or by reference. With `store`,
 * every message is stored (and notified by reference), so processes that poll the table
 * instead of listening see it too.
 */
export async function notifyControl(
  sql: Queryable,
  schema: string,
  pgChannel: string,
  channel: string,
  message: Record<string, unknown>,
  store = false,
): Promise<void> {
  const inline = JSON.stringify({ channel, message } satisfies ControlPayload);
  if (!store && Buffer.byteLength(inline) <= MAX_INLINE_PAYLOAD_BYTES) {
    await sql`SELECT pg_notify(${pgChannel}, ${inline})`;
    return;
  }
  await sql`
    WITH stored AS (
      INSERT INTO ${table(sql, schema, "control_messages")} (channel, message)
      VALUES (${channel}, ${json(sql, message)}) RETURNING id
    )
    SELECT pg_notify(${pgChannel}, json_build_object('channel', ${channel}::text, 'ref', id::text)::text)
    FROM stored`;
}

/**
 * Sends several messages on one control channel inline, in order, in one statement (one
 * round trip, one commit: NOTIFYs of a transaction are delivered in the order issued).
 * Returns false, sending nothing, when one of them is too large to travel inline.
 */
export async function notifyControlInline(
  sql: Queryable,
  pgChannel: string,
  channel: string,
  messages: Record<string, unknown>[],
): Promise<boolean> {
  const payloads = messages.map((message, n) =>
    JSON.stringify({ channel, message, n } satisfies ControlPayload),
  );
  if (payloads.some((p) => Buffer.byteLength(p) > MAX_INLINE_PAYLOAD_BYTES)) return false;
  // A JSON list, not a text[]: the driver escapes array elements in JS, JSON natively.
  await sql`
    SELECT pg_notify(${pgChannel}, p)
    FROM jsonb_array_elements_text(${json(sql, payloads)}) WITH ORDINALITY AS t(p, i) ORDER BY i`;
  return true;
}

/** A stored control message by id, or null once swept. */
export async function readControlMessage(
  sql: Queryable,
  schema: string,
  id: string,
): Promise<Record<string, unknown> | null> {
  const [row] = await sql<{ message: Record<string, unknown> }[]>`
    SELECT message FROM ${table(sql, schema, "control_messages")} WHERE id = ${id}::bigint`;
  return row?.message ?? null;
}

/** A stored control message as a poller reads it. */
export interface StoredControlMessage {
  id: string;
  channel: string;
  message: Record<string, unknown>;
  /** created_at in epoch ms. */
  at: number;
}

/**
 * Stored messages on `channels` created since `since` (and within the last `lookbackMs`
 * by the database clock), oldest first. Pollers re-read a window rather than only ids
 * above the last one seen, because ids are taken before commit and may become visible
 * out of order.
 */
export function readControlMessagesSince(
  sql: Queryable,
  schema: string,
  channels: string[],
  since: Date,
  lookbackMs: number,
): Promise<StoredControlMessage[]> {
  return sql<StoredControlMessage[]>`
    SELECT id::text AS id, channel, message,
      (extract(epoch FROM created_at) * 1000)::double precision AS at
    FROM ${table(sql, schema, "control_messages")}
    WHERE created_at >= greatest(${since}::timestamptz,
        now() - interval '1 millisecond' * ${lookbackMs}::double precision)
      AND channel = ANY(${channels}::text[])
    ORDER BY id`;
}

/** The database's current time (where pollers start reading). */
export async function databaseNow(sql: Queryable): Promise<Date> {
  const [row] = await sql<{ now: Date }[]>`SELECT now() AS now`;
  return row.now;
}
