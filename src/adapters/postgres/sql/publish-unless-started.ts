import type postgres from "postgres";
import type { Envelope } from "../../../core/envelope.ts";
import { hasStarted, type TaskState, type TaskStatus } from "../../../core/states.ts";
import type { PublishResult } from "../../contracts.ts";
import { table } from "../database.ts";
import { publishJobs } from "./publish-jobs.ts";
import { publishWithStatuses } from "./publish-with-statuses.ts";

/**
 * `Broker.publishWithStatusesUnlessStarted` in one transaction: the tasks' live status rows
 * are locked first (FOR UPDATE waits for a worker storing an outcome, then reads the row it
 * committed), so none can start or finish between the look and the publish. A task whose
 * status shows it started is neither stored nor published; one with a live status keeps it.
 */
export function publishUnlessStarted(
  sql: postgres.Sql,
  schema: string,
  statuses: TaskStatus[],
  ttlMs: number,
  envelopes: Envelope[],
): Promise<PublishResult> {
  return sql.begin(async (tx) => {
    const rows = await tx<{ id: string; state: TaskState }[]>`
      SELECT id, state FROM ${table(tx, schema, "task_results")}
      WHERE id = ANY(${statuses.map((s) => s.id)}::text[]) AND expires_at > now()
      ORDER BY id
      FOR UPDATE`;
    const states = new Map(rows.map((row) => [row.id, row.state]));
    const started = (id: string) => {
      const state = states.get(id);
      return state !== undefined && hasStarted(state);
    };
    const fresh = statuses.filter((s) => !states.has(s.id));
    const unstarted = envelopes.filter((e) => !started(e.id));
    const result =
      fresh.length > 0
        ? await publishWithStatuses(tx, schema, fresh, ttlMs, unstarted)
        : await publishJobs(tx, schema, unstarted);
    for (const e of envelopes) if (started(e.id)) result.duplicates.push(e.id);
    return result;
  }) as Promise<PublishResult>;
}
