/** Control messages over NOTIFY; those too large for a payload go through a table. */
import { type Queryable, json, table } from "../database.ts";

/** NOTIFY payloads must stay under 8000 bytes; leave room for the envelope. */
export const MAX_INLINE_PAYLOAD_BYTES = 7500;

/** What travels in a control NOTIFY: the message itself, or the id of its stored copy. */
export type ControlPayload =
  | { channel: string; message: Record<string, unknown> }
  | { channel: string; ref: string };

/** Sends `message` on the schema's control channel, inline or by reference. */
export async function notifyControl(
  sql: Queryable,
  schema: string,
  pgChannel: string,
  channel: string,
  message: Record<string, unknown>,
): Promise<void> {
  const inline = JSON.stringify({ channel, message } satisfies ControlPayload);
  if (Buffer.byteLength(inline) <= MAX_INLINE_PAYLOAD_BYTES) {
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
