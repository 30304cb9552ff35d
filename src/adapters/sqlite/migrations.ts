/**
 * The versioned schema. Each migration runs once per database file, in order, inside
 * one BEGIN IMMEDIATE transaction that also records it in `stem_migrations`, so two
 * processes opening a fresh file at the same moment apply it exactly once between them.
 */
import { StemError } from "../../core/errors.ts";
import type { SqliteDatabase } from "./database.ts";

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** Every table and index Stem keeps in SQLite. Times are INTEGER epoch ms. */
const V1_SQL = `
CREATE TABLE stem_queues (
  name TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE stem_jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  queue TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER,
  attempt INTEGER NOT NULL DEFAULT 0,
  envelope TEXT NOT NULL,
  lease_expires_at INTEGER,
  receipt TEXT,
  consumer TEXT
);
CREATE INDEX stem_jobs_by_queue ON stem_jobs (queue, priority DESC, seq);

CREATE TABLE stem_dead_letters (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  queue TEXT NOT NULL,
  envelope TEXT NOT NULL,
  reason TEXT NOT NULL,
  meta TEXT NOT NULL,
  dead_at INTEGER NOT NULL
);
CREATE INDEX stem_dead_letters_by_queue ON stem_dead_letters (queue, dead_at);
CREATE INDEX stem_dead_letters_by_time ON stem_dead_letters (dead_at);

CREATE TABLE stem_task_statuses (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  queue TEXT NOT NULL,
  state TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX stem_task_statuses_by_update ON stem_task_statuses (updated_at);
CREATE INDEX stem_task_statuses_by_expiry ON stem_task_statuses (expires_at);

CREATE TABLE stem_groups (
  id TEXT PRIMARY KEY,
  expected INTEGER NOT NULL,
  completed INTEGER NOT NULL DEFAULT 0,
  meta TEXT NOT NULL,
  chord_callback_id TEXT,
  expires_at INTEGER NOT NULL
);
CREATE INDEX stem_groups_by_expiry ON stem_groups (expires_at);

CREATE TABLE stem_group_results (
  group_id TEXT NOT NULL,
  member_index INTEGER NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (group_id, member_index)
) WITHOUT ROWID;

CREATE TABLE stem_heartbeats (
  worker_id TEXT PRIMARY KEY,
  heartbeat TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX stem_heartbeats_by_expiry ON stem_heartbeats (expires_at);

CREATE TABLE stem_schedules (
  id TEXT PRIMARY KEY,
  entry TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  next_run_at INTEGER,
  version INTEGER NOT NULL
);
CREATE INDEX stem_schedules_due ON stem_schedules (enabled, next_run_at);

CREATE TABLE stem_schedule_history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entry_id TEXT NOT NULL,
  run TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE INDEX stem_schedule_history_by_entry ON stem_schedule_history (entry_id, seq);
CREATE INDEX stem_schedule_history_by_time ON stem_schedule_history (recorded_at);

CREATE TABLE stem_change_counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE stem_locks (
  key TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX stem_locks_by_expiry ON stem_locks (expires_at);

CREATE TABLE stem_revokes (
  namespace TEXT NOT NULL,
  task_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  entry TEXT NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (namespace, task_id)
) WITHOUT ROWID;

CREATE TABLE stem_rate_limits (
  key TEXT PRIMARY KEY,
  tokens REAL NOT NULL,
  updated_at INTEGER NOT NULL,
  full_at INTEGER NOT NULL
);
CREATE INDEX stem_rate_limits_by_refill ON stem_rate_limits (full_at);

CREATE TABLE stem_control_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX stem_control_messages_by_channel ON stem_control_messages (channel, id);
CREATE INDEX stem_control_messages_by_time ON stem_control_messages (created_at);
`;

/**
 * Durable workflows: each run as JSON with the columns its queries filter on, its
 * checkpoints in insertion order, and the event watchers of suspended runs.
 */
const V2_SQL = `
CREATE TABLE stem_workflow_runs (
  id TEXT PRIMARY KEY,
  workflow TEXT NOT NULL,
  status TEXT NOT NULL,
  wait_topic TEXT,
  due_at INTEGER,
  owner_id TEXT,
  lease_expires_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  run TEXT NOT NULL
);
CREATE INDEX stem_workflow_runs_by_created ON stem_workflow_runs (created_at DESC, id DESC);
CREATE INDEX stem_workflow_runs_by_status ON stem_workflow_runs (status, created_at DESC);
CREATE INDEX stem_workflow_runs_by_workflow ON stem_workflow_runs (workflow, created_at DESC);
CREATE INDEX stem_workflow_runs_by_due ON stem_workflow_runs (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX stem_workflow_runs_by_topic ON stem_workflow_runs (wait_topic) WHERE wait_topic IS NOT NULL;

CREATE TABLE stem_workflow_steps (
  run_id TEXT NOT NULL,
  name TEXT NOT NULL,
  position INTEGER NOT NULL,
  value TEXT NOT NULL,
  completed_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE INDEX stem_workflow_steps_by_position ON stem_workflow_steps (run_id, position);

CREATE TABLE stem_workflow_watchers (
  run_id TEXT PRIMARY KEY,
  step_name TEXT NOT NULL,
  topic TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deadline INTEGER
) WITHOUT ROWID;
CREATE INDEX stem_workflow_watchers_by_topic ON stem_workflow_watchers (topic, created_at);
`;

/**
 * Workflow fencing, kept events and pruning: every run gets a fencing token (0 until
 * claimed), events kept for runs that wait later get a table, and finished runs an index
 * by last update.
 */
const V3_SQL = `
UPDATE stem_workflow_runs SET run = json_set(run, '$.fencingToken', 0);

CREATE TABLE stem_workflow_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  payload TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX stem_workflow_events_by_topic ON stem_workflow_events (topic, seq);
CREATE INDEX stem_workflow_events_by_expiry ON stem_workflow_events (expires_at);

CREATE INDEX stem_workflow_runs_finished ON stem_workflow_runs (updated_at)
  WHERE status IN ('completed', 'failed', 'cancelled');
`;

/**
 * Queue depths without counting rows: a per-queue job count kept by triggers (SQLite has
 * one writer, so the counter row costs no contention), and indexes on leases and due
 * times so the in-flight and delayed counts read only those rows.
 */
const QUEUE_SIZES_SQL = `
CREATE TABLE stem_queue_sizes (
  queue TEXT PRIMARY KEY,
  jobs INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO stem_queue_sizes (queue, jobs) SELECT queue, count(*) FROM stem_jobs GROUP BY queue;
CREATE TRIGGER stem_jobs_count_insert AFTER INSERT ON stem_jobs BEGIN
  INSERT INTO stem_queue_sizes (queue, jobs) VALUES (NEW.queue, 1)
    ON CONFLICT (queue) DO UPDATE SET jobs = jobs + 1;
END;
CREATE TRIGGER stem_jobs_count_delete AFTER DELETE ON stem_jobs BEGIN
  UPDATE stem_queue_sizes SET jobs = jobs - 1 WHERE queue = OLD.queue;
END;
CREATE TRIGGER stem_jobs_count_move AFTER UPDATE OF queue ON stem_jobs
WHEN OLD.queue IS NOT NEW.queue BEGIN
  UPDATE stem_queue_sizes SET jobs = jobs - 1 WHERE queue = OLD.queue;
  INSERT INTO stem_queue_sizes (queue, jobs) VALUES (NEW.queue, 1)
    ON CONFLICT (queue) DO UPDATE SET jobs = jobs + 1;
END;
CREATE INDEX stem_jobs_leased ON stem_jobs (queue, lease_expires_at)
  WHERE lease_expires_at IS NOT NULL;
CREATE INDEX stem_jobs_delayed ON stem_jobs (queue, not_before) WHERE not_before IS NOT NULL;
`;

/**
 * Cheaper enqueues: every page a one-job commit dirties is a WAL frame written, and two
 * were bookkeeping. stem_jobs loses AUTOINCREMENT (sqlite_sequence was rewritten on every
 * insert): publishers now pick seq themselves, above both every row and the fold mark
 * below, so it still only grows. And an insert no longer touches stem_queue_sizes: the
 * counts there cover jobs up to `folded_seq`, newer jobs are counted from their rows (a
 * rowid range), and publishers fold those into the counts now and then (see
 * broker/queue-sizes.ts). Deletes and moves still adjust the counts, for folded jobs only.
 */
const FOLDED_QUEUE_SIZES_SQL = `
CREATE TABLE stem_jobs_rebuilt (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  queue TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER,
  attempt INTEGER NOT NULL DEFAULT 0,
  envelope TEXT NOT NULL,
  lease_expires_at INTEGER,
  receipt TEXT,
  consumer TEXT,
  deliveries INTEGER NOT NULL DEFAULT 0
);
INSERT INTO stem_jobs_rebuilt
  SELECT seq, id, queue, priority, not_before, attempt, envelope, lease_expires_at, receipt,
    consumer, deliveries
  FROM stem_jobs;
DROP TABLE stem_jobs;
ALTER TABLE stem_jobs_rebuilt RENAME TO stem_jobs;
CREATE INDEX stem_jobs_by_queue ON stem_jobs (queue, priority DESC, seq);
CREATE INDEX stem_jobs_leased ON stem_jobs (queue, lease_expires_at)
  WHERE lease_expires_at IS NOT NULL;
CREATE INDEX stem_jobs_delayed ON stem_jobs (queue, not_before) WHERE not_before IS NOT NULL;
CREATE TABLE stem_queue_size_fold (folded_seq INTEGER NOT NULL);
INSERT INTO stem_queue_size_fold (folded_seq) SELECT coalesce(max(seq), 0) FROM stem_jobs;
CREATE TRIGGER stem_jobs_count_delete AFTER DELETE ON stem_jobs
WHEN OLD.seq <= (SELECT folded_seq FROM stem_queue_size_fold) BEGIN
  UPDATE stem_queue_sizes SET jobs = jobs - 1 WHERE queue = OLD.queue;
END;
CREATE TRIGGER stem_jobs_count_move AFTER UPDATE OF queue ON stem_jobs
WHEN OLD.queue IS NOT NEW.queue AND OLD.seq <= (SELECT folded_seq FROM stem_queue_size_fold)
BEGIN
  UPDATE stem_queue_sizes SET jobs = jobs - 1 WHERE queue = OLD.queue;
  INSERT INTO stem_queue_sizes (queue, jobs) VALUES (NEW.queue, 1)
    ON CONFLICT (queue) DO UPDATE SET jobs = jobs + 1;
END;
`;

/** The schema history, oldest first. Append; never edit a released migration. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "broker, results, schedules, locks, revokes, rate limits, control",
    sql: V1_SQL,
  },
  {
    version: 2,
    description: "workflow runs, checkpoints and event watchers",
    sql: V2_SQL,
  },
  {
    version: 3,
    description: "workflow fencing tokens, kept events, pruning index",
    sql: V3_SQL,
  },
  {
    version: 4,
    description: "delivery count per job (the worker's delivery limit)",
    sql: "ALTER TABLE stem_jobs ADD COLUMN deliveries INTEGER NOT NULL DEFAULT 0;",
  },
  {
    version: 5,
    description: "per-minute counters (task outcomes and durations, queue depth)",
    sql: `
CREATE TABLE stem_minute_counts (
  minute INTEGER NOT NULL,
  series TEXT NOT NULL,
  counter TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (minute, series, counter)
) WITHOUT ROWID;`,
  },
  {
    version: 6,
    description: "global concurrency limits and their leased slots",
    sql: `
CREATE TABLE stem_concurrency_limits (
  key TEXT PRIMARY KEY,
  max_slots INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE stem_concurrency_slots (
  key TEXT NOT NULL,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (key, holder)
) WITHOUT ROWID;
`,
  },
  {
    version: 7,
    description: "per-queue job counts and lease and due-time indexes (fast queue stats)",
    sql: QUEUE_SIZES_SQL,
  },
  {
    version: 8,
    description: "task timelines (a JSON array of entries beside each status)",
    sql: "ALTER TABLE stem_task_statuses ADD COLUMN timeline TEXT;",
  },
  {
    version: 9,
    description: "task events: a small capped table of recent event batches",
    sql: `CREATE TABLE stem_task_events (
  id INTEGER PRIMARY KEY,
  events TEXT NOT NULL,
  created_at INTEGER NOT NULL
);`,
  },
  {
    version: 10,
    description: "revocations by version (incremental reloads) and by expiry (pruning)",
    sql: `
CREATE INDEX stem_revokes_by_version ON stem_revokes (namespace, version);
CREATE INDEX stem_revokes_by_expiry ON stem_revokes (expires_at) WHERE expires_at IS NOT NULL;
`,
  },
  {
    version: 11,
    description: "jobs without AUTOINCREMENT; queue sizes folded in now and then, not per insert",
    sql: FOLDED_QUEUE_SIZES_SQL,
  },
];

/** The newest schema version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

const HAS_TABLE =
  "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'stem_migrations'";
const CURRENT_VERSION = "SELECT coalesce(max(version), 0) AS version FROM stem_migrations";
const CREATE_TABLE =
  "CREATE TABLE IF NOT EXISTS stem_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)";
const RECORD = "INSERT INTO stem_migrations (version, applied_at) VALUES (?, ?)";

/**
 * Brings the database to the newest schema; returns the versions applied now (none when
 * it was current). Throws StemError("schema_too_new") for a file written by a newer build.
 */
export function migrate(
  db: SqliteDatabase,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  // Fast path without the write lock: most opens find the schema current.
  const seen = db.read(() => currentVersion(db));
  refuseNewer(db, seen, latest);
  if (seen === latest) return [];
  return db.write(() => {
    db.exec(CREATE_TABLE);
    // Re-read under the write lock: another process may have migrated meanwhile.
    const current = currentVersion(db);
    refuseNewer(db, current, latest);
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.statement<unknown, [number, number]>(RECORD).run(migration.version, db.now());
      applied.push(migration.version);
    }
    return applied;
  });
}

/** The schema version stored in the file (0 for a fresh file). */
export function currentVersion(db: SqliteDatabase): number {
  if (!db.statement<{ found: number }>(HAS_TABLE).get()) return 0;
  return db.statement<{ version: number }>(CURRENT_VERSION).get()?.version ?? 0;
}

function refuseNewer(db: SqliteDatabase, found: number, latest: number): void {
  if (found > latest) {
    throw new StemError(
      "schema_too_new",
      `SQLite database ${db.location} has schema version ${found}, newer than this build of Stem knows (${latest}); upgrade Stem to use it`,
    );
  }
}
