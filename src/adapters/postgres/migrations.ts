/**
 * The Postgres schema, as numbered migrations applied in order on connect. Every
 * connecting process runs `migrate`; a transaction-scoped advisory lock per schema
 * makes concurrent starts apply each migration exactly once. `{schema}` in the SQL is
 * replaced by the quoted schema name.
 */
import type postgres from "postgres";
import { StemError } from "../../core/errors.ts";
import { MIGRATIONS_FROM_15 } from "./migrations-from-15.ts";

/** One schema change; `{schema}` in the SQL is replaced by the quoted schema name. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "broker",
    sql: `
CREATE TABLE {schema}.jobs (
  id text PRIMARY KEY,
  queue text NOT NULL,
  priority smallint NOT NULL DEFAULT 0,
  seq bigserial NOT NULL,
  not_before timestamptz,
  attempt integer NOT NULL DEFAULT 0,
  envelope jsonb NOT NULL,
  lease_expires_at timestamptz,
  receipt text,
  consumer text,
  enqueued_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_claim_idx ON {schema}.jobs (queue, priority DESC, seq);
CREATE INDEX jobs_lease_idx ON {schema}.jobs (queue, lease_expires_at) WHERE receipt IS NOT NULL;
CREATE INDEX jobs_delayed_idx ON {schema}.jobs (queue, not_before) WHERE not_before IS NOT NULL;

CREATE TABLE {schema}.queues (
  name text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE {schema}.dead_letters (
  id text PRIMARY KEY,
  queue text NOT NULL,
  envelope jsonb NOT NULL,
  reason text NOT NULL,
  meta jsonb NOT NULL DEFAULT '{}',
  dead_at timestamptz NOT NULL,
  seq bigserial NOT NULL
);
CREATE INDEX dead_letters_queue_idx ON {schema}.dead_letters (queue, dead_at);
CREATE INDEX dead_letters_dead_at_idx ON {schema}.dead_letters (dead_at);

-- Every statement inserting jobs (Stem's publish, a caller's transaction, a replay, a
-- hand-written INSERT) records the queue names and wakes waiting consumers, once per
-- queue, when it commits.
CREATE FUNCTION {schema}.jobs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {schema}.queues (name)
    SELECT DISTINCT queue FROM inserted ORDER BY queue ON CONFLICT (name) DO NOTHING;
  PERFORM pg_notify(TG_TABLE_SCHEMA || '.jobs', q.queue)
    FROM (SELECT DISTINCT queue FROM inserted) q;
  RETURN NULL;
END
$$;
CREATE TRIGGER jobs_inserted AFTER INSERT ON {schema}.jobs
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.jobs_inserted();
`,
  },
  {
    version: 2,
    name: "results",
    sql: `
CREATE TABLE {schema}.task_results (
  id text PRIMARY KEY,
  state text NOT NULL,
  name text NOT NULL,
  queue text NOT NULL,
  status jsonb NOT NULL,
  updated_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX task_results_updated_idx ON {schema}.task_results (updated_at DESC);
CREATE INDEX task_results_queue_idx ON {schema}.task_results (queue, updated_at DESC);
CREATE INDEX task_results_state_idx ON {schema}.task_results (state, updated_at DESC);
CREATE INDEX task_results_expires_idx ON {schema}.task_results (expires_at);

CREATE TABLE {schema}.groups (
  id text PRIMARY KEY,
  expected integer NOT NULL,
  completed integer NOT NULL DEFAULT 0,
  meta jsonb NOT NULL DEFAULT '{}',
  chord_callback_id text,
  expires_at timestamptz NOT NULL
);
CREATE INDEX groups_expires_idx ON {schema}.groups (expires_at);

CREATE TABLE {schema}.group_results (
  group_id text NOT NULL REFERENCES {schema}.groups (id) ON DELETE CASCADE,
  idx integer NOT NULL,
  status jsonb NOT NULL,
  PRIMARY KEY (group_id, idx)
);

CREATE TABLE {schema}.worker_heartbeats (
  worker_id text PRIMARY KEY,
  heartbeat jsonb NOT NULL,
  expires_at timestamptz NOT NULL
);
`,
  },
  {
    version: 3,
    name: "schedules",
    sql: `
CREATE TABLE {schema}.schedules (
  id text PRIMARY KEY,
  entry jsonb NOT NULL,
  next_run_at timestamptz,
  enabled boolean NOT NULL,
  version integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedules_due_idx ON {schema}.schedules (next_run_at) WHERE enabled;

CREATE TABLE {schema}.schedule_run_history (
  seq bigserial PRIMARY KEY,
  entry_id text NOT NULL,
  run jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedule_run_history_entry_idx ON {schema}.schedule_run_history (entry_id, seq DESC);

-- Bumped by every schedule change; its value is the store's change token.
CREATE SEQUENCE {schema}.schedule_changes;
`,
  },
  {
    version: 4,
    name: "coordination",
    sql: `
CREATE TABLE {schema}.locks (
  key text PRIMARY KEY,
  owner text NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE TABLE {schema}.revokes (
  namespace text NOT NULL,
  task_id text NOT NULL,
  version numeric NOT NULL,
  entry jsonb NOT NULL,
  expires_at timestamptz,
  PRIMARY KEY (namespace, task_id)
);

CREATE TABLE {schema}.rate_limits (
  key text PRIMARY KEY,
  tokens double precision,
  updated_at_ms double precision
);

-- Control messages too large for a NOTIFY payload; subscribers read them by id.
CREATE TABLE {schema}.control_messages (
  id bigserial PRIMARY KEY,
  channel text NOT NULL,
  message jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX control_messages_created_idx ON {schema}.control_messages (created_at);
`,
  },
  {
    version: 5,
    name: "claim function",
    sql: `
-- Leases up to p_max ready jobs (see sql/claim-jobs.ts). A function so the plan can be
-- pinned: a queue table's statistics swing between empty and huge, and with low row
-- estimates (a fresh or just-analyzed-while-empty table) the planner reads every queued
-- row with a bitmap scan and sorts them, making each claim cost O(queue length). With
-- bitmap and sequential scans off, each queue is read in (queue, priority, seq) index
-- order and the claim stops after p_max rows. PL/pgSQL keeps the plan per session.
-- The claim commits without waiting for its WAL flush (synchronous_commit off for this
-- transaction): a lease lost in a server crash only makes its job claimable again, as
-- if the lease had run out, and the worker's ack (a synchronous commit, which flushes
-- the WAL up to it) then finds no receipt, so at-least-once delivery is unchanged.
CREATE FUNCTION {schema}.claim_jobs(
  p_queues text[], p_max integer, p_lease_ms double precision, p_consumer text
) RETURNS TABLE (
  id text, queue text, envelope jsonb, attempt integer, not_before timestamptz,
  receipt text, lease_expires_at timestamptz, priority smallint, seq double precision
)
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_seqscan = off
AS $$
#variable_conflict use_column
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  RETURN QUERY
  WITH picked AS MATERIALIZED (
    SELECT c.id
    FROM unnest(p_queues) WITH ORDINALITY AS q(name, pos)
    CROSS JOIN LATERAL (
      SELECT k.id, k.priority, k.seq FROM {schema}.jobs AS k
      WHERE k.queue = q.name
        AND (k.receipt IS NULL OR k.lease_expires_at <= now())
        AND (k.not_before IS NULL OR k.not_before <= now())
      ORDER BY k.priority DESC, k.seq
      LIMIT p_max
      FOR UPDATE SKIP LOCKED
    ) c
    ORDER BY q.pos, c.priority DESC, c.seq
    LIMIT p_max
  )
  UPDATE {schema}.jobs AS j SET
    attempt = j.attempt + CASE WHEN j.receipt IS NULL THEN 0 ELSE 1 END,
    receipt = gen_random_uuid()::text,
    consumer = p_consumer,
    lease_expires_at = now() + interval '1 millisecond' * coalesce(
      CASE WHEN jsonb_typeof(j.envelope -> 'visibilityTimeoutMs') = 'number'
        THEN (j.envelope ->> 'visibilityTimeoutMs')::double precision END,
      p_lease_ms)
  FROM picked
  WHERE j.id = picked.id
  RETURNING j.id, j.queue, j.envelope, j.attempt, j.not_before, j.receipt,
    j.lease_expires_at, j.priority, j.seq::double precision;
END
$$;
`,
  },
  {
    version: 6,
    name: "workflows",
    sql: `
-- A workflow run: the run as JSON plus the columns its queries use, and its event
-- watcher (one per run) in the same row, so one row lock covers both. Times are epoch
-- ms from the workflow store's clock. Ids sort bytewise ("C") as in the other stores.
CREATE TABLE {schema}.workflow_runs (
  id text COLLATE "C" PRIMARY KEY,
  workflow text NOT NULL,
  status text NOT NULL,
  wait_topic text,
  due_at double precision,
  owner_id text,
  lease_expires_at double precision,
  created_at double precision NOT NULL,
  updated_at double precision NOT NULL,
  run jsonb NOT NULL,
  watch_step text,
  watch_topic text,
  watch_data jsonb,
  watch_created_at double precision,
  watch_deadline double precision
);
CREATE INDEX workflow_runs_created_idx ON {schema}.workflow_runs (created_at DESC, id DESC);
CREATE INDEX workflow_runs_workflow_idx
  ON {schema}.workflow_runs (workflow, created_at DESC, id DESC);
CREATE INDEX workflow_runs_status_idx ON {schema}.workflow_runs (status, created_at DESC, id DESC);
CREATE INDEX workflow_runs_runnable_idx
  ON {schema}.workflow_runs (updated_at, id) WHERE status = 'running';
CREATE INDEX workflow_runs_due_idx
  ON {schema}.workflow_runs (due_at, id) WHERE status = 'suspended' AND due_at IS NOT NULL;
CREATE INDEX workflow_runs_waiting_idx
  ON {schema}.workflow_runs (wait_topic, updated_at, id) WHERE status = 'suspended';
CREATE INDEX workflow_runs_watch_idx
  ON {schema}.workflow_runs (watch_topic, watch_created_at, id) WHERE watch_topic IS NOT NULL;

-- Checkpoints, in position order within a run.
CREATE TABLE {schema}.workflow_steps (
  run_id text COLLATE "C" NOT NULL REFERENCES {schema}.workflow_runs (id) ON DELETE CASCADE,
  name text NOT NULL,
  position integer NOT NULL,
  value jsonb NOT NULL,
  completed_at double precision NOT NULL,
  PRIMARY KEY (run_id, name)
);
CREATE INDEX workflow_steps_position_idx ON {schema}.workflow_steps (run_id, position);
`,
  },
  {
    version: 7,
    name: "workflow fencing, kept events and pruning",
    sql: `
-- Every run gets a fencing token, 0 until it is first claimed.
UPDATE {schema}.workflow_runs SET run = run || '{"fencingToken": 0}'::jsonb;

-- Events kept for runs that start waiting on their topic later, oldest first per topic.
CREATE TABLE {schema}.workflow_events (
  seq bigserial PRIMARY KEY,
  topic text NOT NULL,
  payload text NOT NULL,
  expires_at double precision NOT NULL
);
CREATE INDEX workflow_events_topic_idx ON {schema}.workflow_events (topic, seq);
CREATE INDEX workflow_events_expiry_idx ON {schema}.workflow_events (expires_at);

CREATE INDEX workflow_runs_finished_idx ON {schema}.workflow_runs (updated_at, id)
  WHERE status IN ('completed', 'failed', 'cancelled');
`,
  },
  {
    version: 8,
    name: "delivery counts",
    sql: `
-- How many times each job has been handed out (the worker's delivery limit), and
-- claim_jobs (migration 5) counting it and reporting whether the job's previous lease
-- ran out. Same plan pinning and commit mode as before.
ALTER TABLE {schema}.jobs ADD COLUMN deliveries integer NOT NULL DEFAULT 0;
DROP FUNCTION {schema}.claim_jobs(text[], integer, double precision, text);
CREATE FUNCTION {schema}.claim_jobs(
  p_queues text[], p_max integer, p_lease_ms double precision, p_consumer text
) RETURNS TABLE (
  id text, queue text, envelope jsonb, attempt integer, not_before timestamptz,
  receipt text, lease_expires_at timestamptz, priority smallint, seq double precision,
  deliveries integer, lease_lost boolean
)
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_seqscan = off
AS $$
#variable_conflict use_column
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  RETURN QUERY
  WITH picked AS MATERIALIZED (
    SELECT c.id, c.lease_lost
    FROM unnest(p_queues) WITH ORDINALITY AS q(name, pos)
    CROSS JOIN LATERAL (
      SELECT k.id, k.priority, k.seq, k.receipt IS NOT NULL AS lease_lost
      FROM {schema}.jobs AS k
      WHERE k.queue = q.name
        AND (k.receipt IS NULL OR k.lease_expires_at <= now())
        AND (k.not_before IS NULL OR k.not_before <= now())
      ORDER BY k.priority DESC, k.seq
      LIMIT p_max
      FOR UPDATE SKIP LOCKED
    ) c
    ORDER BY q.pos, c.priority DESC, c.seq
    LIMIT p_max
  )
  UPDATE {schema}.jobs AS j SET
    attempt = j.attempt + CASE WHEN j.receipt IS NULL THEN 0 ELSE 1 END,
    deliveries = j.deliveries + 1,
    receipt = gen_random_uuid()::text,
    consumer = p_consumer,
    lease_expires_at = now() + interval '1 millisecond' * coalesce(
      CASE WHEN jsonb_typeof(j.envelope -> 'visibilityTimeoutMs') = 'number'
        THEN (j.envelope ->> 'visibilityTimeoutMs')::double precision END,
      p_lease_ms)
  FROM picked
  WHERE j.id = picked.id
  RETURNING j.id, j.queue, j.envelope, j.attempt, j.not_before, j.receipt,
    j.lease_expires_at, j.priority, j.seq::double precision, j.deliveries, picked.lease_lost;
END
$$;
`,
  },
  {
    version: 9,
    name: "rate limit bucket expiry",
    sql: `
-- When each bucket is full again (the same as no bucket), so the sweep can delete idle
-- ones: with a bucket per key (per tenant) the table would otherwise only grow. Buckets
-- from before have no refill time; they count as full now, which at worst hands out one
-- early token per key.
ALTER TABLE {schema}.rate_limits ADD COLUMN full_at_ms double precision;
UPDATE {schema}.rate_limits SET full_at_ms = coalesce(updated_at_ms, 0);
CREATE INDEX rate_limits_full_at_idx ON {schema}.rate_limits (full_at_ms);
`,
  },
  {
    version: 10,
    name: "per-minute counters",
    sql: `
-- Task outcomes and durations, and sampled queue depth, per minute (kept a day).
CREATE TABLE {schema}.minute_counts (
  minute bigint NOT NULL,
  series text NOT NULL,
  counter text NOT NULL,
  value double precision NOT NULL,
  PRIMARY KEY (minute, series, counter)
);
`,
  },
  {
    version: 11,
    name: "global concurrency slots",
    sql: `
-- A limit per concurrency key (a task name or a queue); its row is locked by every
-- acquire, so acquires of one key take turns.
CREATE TABLE {schema}.concurrency_limits (
  key text PRIMARY KEY,
  max_slots integer NOT NULL
);
-- The leased slots: a holder's slot counts until expires_at.
CREATE TABLE {schema}.concurrency_slots (
  key text NOT NULL,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (key, holder)
);
`,
  },
  {
    version: 12,
    name: "queue sizes",
    sql: `
-- Job counts per queue without counting rows. Every statement that inserts or deletes
-- jobs appends one row per queue with its change; readers sum a queue's rows. Appending
-- never waits on another transaction (one counter row per queue would serialise every
-- publish and ack of the queue). About one statement in 64 folds the queues it touched
-- into one row each, taking only rows no other fold holds (SKIP LOCKED), so folds never
-- wait either; a rolled-back statement takes its delta and its fold with it.
CREATE TABLE {schema}.queue_size_deltas (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  delta bigint NOT NULL
);
CREATE INDEX queue_size_deltas_queue_idx ON {schema}.queue_size_deltas (queue);
INSERT INTO {schema}.queue_size_deltas (queue, delta)
  SELECT queue, count(*) FROM {schema}.jobs GROUP BY queue;

CREATE FUNCTION {schema}.fold_queue_size(p_queue text) RETURNS void LANGUAGE sql AS $$
  WITH picked AS (
    SELECT id FROM {schema}.queue_size_deltas WHERE queue = p_queue FOR UPDATE SKIP LOCKED
  ), gone AS (
    DELETE FROM {schema}.queue_size_deltas AS d USING picked WHERE d.id = picked.id
    RETURNING d.delta
  )
  INSERT INTO {schema}.queue_size_deltas (queue, delta)
    SELECT p_queue, sum(delta) FROM gone HAVING count(*) > 0 AND sum(delta) <> 0;
$$;

CREATE FUNCTION {schema}.jobs_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  q text;
BEGIN
  INSERT INTO {schema}.queue_size_deltas (queue, delta)
    SELECT queue, CASE WHEN TG_OP = 'INSERT' THEN count(*) ELSE -count(*) END
    FROM changed GROUP BY queue;
  IF random() < 1.0 / 64 THEN
    FOR q IN SELECT DISTINCT queue FROM changed LOOP
      PERFORM {schema}.fold_queue_size(q);
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER jobs_counted_insert AFTER INSERT ON {schema}.jobs
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.jobs_counted();
CREATE TRIGGER jobs_counted_delete AFTER DELETE ON {schema}.jobs
  REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.jobs_counted();
`,
  },
  {
    version: 13,
    name: "task timelines",
    // timeline_append(stored, added, cap) does what appendTimeline in core/timeline.ts does,
    // on the server, for an `added` that is itself already collapsed (upsertStatuses makes
    // it so): a status write appends to its task's timeline in the same statement. A plain
    // SQL function, so the planner can inline it.
    sql: `
ALTER TABLE {schema}.task_results ADD COLUMN timeline jsonb;

CREATE FUNCTION {schema}.timeline_capped(joined jsonb, cap integer)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_array(joined->0) || (
    SELECT jsonb_agg(value ORDER BY ord)
    FROM jsonb_array_elements(joined) WITH ORDINALITY AS t(value, ord)
    WHERE ord > jsonb_array_length(joined) - cap + 1)
$$;

-- One expression (no FROM), so the planner inlines it into the upsert.
CREATE FUNCTION {schema}.timeline_append(stored jsonb, added jsonb, cap integer)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN stored->-1->>'event' = 'progress' AND added->0->>'event' = 'progress' THEN
      CASE WHEN jsonb_array_length(stored) + jsonb_array_length(added) - 1 <= cap
        THEN (stored - -1) || added
        ELSE {schema}.timeline_capped((stored - -1) || added, cap) END
    WHEN jsonb_array_length(stored) + jsonb_array_length(added) <= cap THEN stored || added
    ELSE {schema}.timeline_capped(stored || added, cap)
  END
$$;
`,
  },
  {
    version: 14,
    name: "revocation indexes",
    sql: `
-- Workers reload only the revocations above the last version they saw, and the
-- housekeeping sweep deletes expired ones: index both.
CREATE INDEX revokes_version_idx ON {schema}.revokes (namespace, version);
CREATE INDEX revokes_expires_idx ON {schema}.revokes (expires_at) WHERE expires_at IS NOT NULL;
`,
  },
  ...MIGRATIONS_FROM_15,
];

/** The newest schema version this code knows. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

function quoted(schema: string): string {
  return `"${schema.replace(/"/g, '""')}"`;
}

/** The schema version recorded in `schema` (0 when the schema or its table is missing). */
export async function appliedVersion(sql: postgres.Sql | postgres.TransactionSql, schema: string) {
  const [row] = await sql<{ exists: boolean }[]>`
    SELECT to_regclass(${`${quoted(schema)}.migrations`}) IS NOT NULL AS exists`;
  if (!row.exists) return 0;
  const [{ version }] = await sql<{ version: number | null }[]>`
    SELECT max(version)::int AS version FROM ${sql(`${schema}.migrations`)}`;
  return version ?? 0;
}

function refuseNewer(schema: string, version: number): void {
  if (version > LATEST_VERSION) {
    throw new StemError(
      "schema_too_new",
      `Postgres schema "${schema}" is at version ${version}, newer than this Stem understands (${LATEST_VERSION}); upgrade Stem`,
    );
  }
}

/**
 * Brings `schema` up to date: creates it when missing, then applies the migrations not
 * yet recorded in `<schema>.migrations`, all in one transaction under an advisory lock,
 * so several processes starting together neither race nor half-apply. Returns the
 * versions this call applied. `migrations` (tests) stops at an older version.
 */
export async function migrate(
  sql: postgres.Sql,
  schema: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const current = await appliedVersion(sql, schema);
  refuseNewer(schema, current);
  if (current >= migrations[migrations.length - 1].version) return [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateLocked(sql, schema, migrations);
    } catch (error) {
      if (
        attempt >= MIGRATE_ATTEMPTS ||
        !CREATED_MEANWHILE.has(String((error as { code?: unknown }).code))
      )
        throw error;
    }
  }
}

/**
 * Errors of a migration that found an object created by another one it waited for: it
 * can still see the schema as it was before the wait (seen behind PgBouncer, where a
 * server connection serves many clients). A new transaction sees the other's work.
 * unique_violation (on a catalog), duplicate_schema, duplicate_table, duplicate_object.
 */
const CREATED_MEANWHILE = new Set(["23505", "42P06", "42P07", "42710"]);
const MIGRATE_ATTEMPTS = 3;

/** One attempt: the migrations not yet applied, in one transaction under the schema's lock. */
function migrateLocked(
  sql: postgres.Sql,
  schema: string,
  migrations: readonly Migration[],
): Promise<number[]> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${`stem.migrate:${schema}`}))`;
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${quoted(schema)}`);
    await tx.unsafe(`
      CREATE TABLE IF NOT EXISTS ${quoted(schema)}.migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const applied = await appliedVersion(tx, schema);
    refuseNewer(schema, applied);
    const done: number[] = [];
    for (const m of migrations) {
      if (m.version <= applied) continue;
      await tx.unsafe(m.sql.replaceAll("{schema}", quoted(schema)));
      await tx`INSERT INTO ${tx(`${schema}.migrations`)} (version, name) VALUES (${m.version}, ${m.name})`;
      done.push(m.version);
    }
    return done;
  });
}
