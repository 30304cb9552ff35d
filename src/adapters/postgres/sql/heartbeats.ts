import type { WorkerHeartbeat } from "../../contracts.ts";
import { type Queryable, json, table } from "../database.ts";

/** Stores a worker's heartbeat, live for `ttlMs`. */
export async function setHeartbeat(
  sql: Queryable,
  schema: string,
  heartbeat: WorkerHeartbeat,
  ttlMs: number,
): Promise<void> {
  await sql`
    INSERT INTO ${table(sql, schema, "worker_heartbeats")} (worker_id, heartbeat, expires_at)
    VALUES (${heartbeat.workerId}, ${json(sql, heartbeat)},
      now() + interval '1 millisecond' * ${ttlMs}::double precision)
    ON CONFLICT (worker_id) DO UPDATE SET
      heartbeat = excluded.heartbeat, expires_at = excluded.expires_at`;
}

/** Deletes a worker's heartbeat. */
export async function removeHeartbeat(
  sql: Queryable,
  schema: string,
  workerId: string,
): Promise<void> {
  await sql`DELETE FROM ${table(sql, schema, "worker_heartbeats")} WHERE worker_id = ${workerId}`;
}

/** Live heartbeats: one worker's, or every worker's (by worker id) when `workerId` is omitted. */
export async function getHeartbeats(
  sql: Queryable,
  schema: string,
  workerId?: string,
): Promise<WorkerHeartbeat[]> {
  const id = workerId ?? null;
  const rows = await sql<{ heartbeat: WorkerHeartbeat }[]>`
    SELECT heartbeat FROM ${table(sql, schema, "worker_heartbeats")}
    WHERE expires_at > now() AND (${id}::text IS NULL OR worker_id = ${id}::text)
    ORDER BY worker_id`;
  return rows.map((r) => r.heartbeat);
}
