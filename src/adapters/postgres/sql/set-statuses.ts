import type postgres from "postgres";
import { type TaskStatus, TERMINAL_STATES } from "../../../core/states.ts";
import { checkStatusesStorable } from "../../../core/storable.ts";
import {
  appendTimeline,
  latestWithTimelines,
  TIMELINE_CAP,
  withoutTimeline,
} from "../../../core/timeline.ts";
import { json, type Queryable, table } from "../database.ts";

/**
 * The upsert of whole task statuses, each expiring `ttlMs` from now by the database
 * clock, as a statement fragment (usable alone or inside a WITH). When an id appears
 * twice, the later status wins. Timeline entries are appended to the live row's (a
 * timeline whose row has expired is dropped). `statuses` must not be empty. With
 * `unlessLive`, a stored status is replaced only when it has expired or is final.
 */
export function upsertStatuses(
  sql: Queryable,
  schema: string,
  statuses: TaskStatus[],
  ttlMs: number,
  options: { unlessLive?: boolean } = {},
): postgres.PendingQuery<postgres.Row[]> {
  checkStatusesStorable(statuses);
  // Each status's entries collapsed here, so the server only joins them to the stored ones.
  const latest = latestWithTimelines(statuses).map((status) =>
    status.timeline?.length
      ? { ...status, timeline: appendTimeline([], status.timeline, TIMELINE_CAP) }
      : withoutTimeline(status),
  );
  return sql`
    INSERT INTO ${table(sql, schema, "task_results")} AS r
      (id, state, name, queue, status, timeline, updated_at, expires_at)
    SELECT s->>'id', s->>'state', coalesce(s->>'name', ''), coalesce(s->>'queue', ''),
      s - 'timeline', s->'timeline',
      coalesce(to_timestamp((s->>'updatedAt')::double precision / 1000), now()),
      now() + interval '1 millisecond' * ${ttlMs}::double precision
    FROM jsonb_array_elements(${json(sql, latest)}) AS t(s)
    ON CONFLICT (id) DO UPDATE SET
      state = excluded.state, name = excluded.name, queue = excluded.queue,
      status = excluded.status, updated_at = excluded.updated_at, expires_at = excluded.expires_at,
      timeline = CASE
        WHEN r.expires_at <= now() THEN excluded.timeline
        WHEN excluded.timeline IS NULL OR r.timeline IS NULL
          THEN coalesce(excluded.timeline, r.timeline)
        ELSE ${sql(schema)}.timeline_append(r.timeline, excluded.timeline, ${TIMELINE_CAP}::integer)
      END
    ${
      options.unlessLive
        ? sql`WHERE r.expires_at <= now() OR r.state = ANY(${[...TERMINAL_STATES]}::text[])`
        : sql``
    }`;
}

/** Upserts whole task statuses in one statement (see `upsertStatuses`). */
export async function setStatuses(
  sql: Queryable,
  schema: string,
  statuses: TaskStatus[],
  ttlMs: number,
): Promise<void> {
  if (statuses.length === 0) return;
  await upsertStatuses(sql, schema, statuses, ttlMs);
}
