import type postgres from "postgres";
import { clampPriority, type Envelope } from "../../../core/envelope.ts";
import { StemError } from "../../../core/errors.ts";
import type { PublishResult } from "../../contracts.ts";
import { json, type Queryable, table } from "../database.ts";

/** Checks an envelope can be stored and fills in its defaults (priority range, attempt). */
export function checkEnvelope(envelope: Envelope): Envelope {
  for (const field of ["id", "queue", "name"] as const) {
    if (typeof envelope[field] !== "string" || envelope[field].length === 0) {
      throw new StemError(
        "invalid_argument",
        `cannot publish an envelope without a ${field} (id ${JSON.stringify(envelope.id)})`,
      );
    }
  }
  return {
    ...envelope,
    priority: clampPriority(envelope.priority),
    attempt: envelope.attempt ?? 0,
  };
}

/**
 * The INSERT of checked envelopes in the order given, as a statement fragment (usable
 * alone or after a WITH) returning the ids stored. Ids already in the jobs table
 * (queued, delayed or in flight) are left alone. The insert trigger notifies waiting
 * consumers when the statement's transaction commits.
 */
export function insertJobs(
  sql: Queryable,
  schema: string,
  checked: Envelope[],
): postgres.PendingQuery<{ id: string }[]> {
  return sql<{ id: string }[]>`
    INSERT INTO ${table(sql, schema, "jobs")} (id, queue, priority, not_before, attempt, envelope)
    SELECT e->>'id', e->>'queue', (e->>'priority')::smallint,
           to_timestamp((e->>'notBefore')::double precision / 1000),
           (e->>'attempt')::integer, e
    FROM jsonb_array_elements(${json(sql, checked)}) WITH ORDINALITY AS t(e, ord)
    ORDER BY ord
    ON CONFLICT (id) DO NOTHING
    RETURNING id`;
}

/** Which of `checked` were stored (`rows` returned by `insertJobs`) and which were duplicates. */
export function publishResult(checked: Envelope[], rows: { id: string }[]): PublishResult {
  // Every one stored (the usual case): no set of ids to build and search.
  if (rows.length === checked.length) return { accepted: checked.map((e) => e.id), duplicates: [] };
  const stored = new Set(rows.map((r) => r.id));
  const result: PublishResult = { accepted: [], duplicates: [] };
  for (const { id } of checked) {
    if (stored.delete(id)) result.accepted.push(id);
    else result.duplicates.push(id);
  }
  return result;
}

/**
 * Stores envelopes in one INSERT, in the order given (see `insertJobs`); ids already
 * present are reported as duplicates. Works on a caller's transaction too: rolled back,
 * nothing is published.
 */
export async function publishJobs(
  sql: Queryable,
  schema: string,
  envelopes: Envelope[],
): Promise<PublishResult> {
  if (envelopes.length === 0) return { accepted: [], duplicates: [] };
  const checked = envelopes.map(checkEnvelope);
  return publishResult(checked, await insertJobs(sql, schema, checked));
}
