/**
 * Deleting what has expired: task statuses, groups and their results, heartbeats, locks,
 * refilled rate-limit buckets, old control messages and old schedule history. Runs when
 * a connection opens and then at most once per interval after a write, in batches so it
 * never holds the write lock for long.
 */
import type { SqliteDatabase } from "./database.ts";
import { CONTROL_RETENTION_MS } from "./control-bus.ts";
import { toError } from "../../core/errors.ts";

/** Schedule history older than this is deleted (the newest 1,000 per entry are kept meanwhile). */
export const SCHEDULE_HISTORY_RETENTION_MS = 30 * 86_400_000;
/** How often, at most, a connection prunes. */
export const PRUNE_INTERVAL_MS = 60_000;
/** Rows deleted per kind per run; a full batch makes the next write prune again. */
export const PRUNE_BATCH = 5_000;

/** Deletes up to a batch of rows whose `column` is at or before `$before` (uses the column's index). */
const batch = (table: string, key: string, column: string) =>
  `DELETE FROM ${table} WHERE ${key} IN (
    SELECT ${key} FROM ${table} WHERE ${column} <= $before LIMIT ${PRUNE_BATCH})`;

const STATEMENTS = {
  statuses: batch("stem_task_statuses", "id", "expires_at"),
  heartbeats: batch("stem_heartbeats", "worker_id", "expires_at"),
  locks: batch("stem_locks", "key", "expires_at"),
  rateLimits: batch("stem_rate_limits", "key", "full_at"),
  controlMessages: batch("stem_control_messages", "id", "created_at"),
  history: batch("stem_schedule_history", "seq", "recorded_at"),
} as const;

/** Groups go with their results, so the expired ids are picked once and used for both. */
const EXPIRED_GROUPS = `SELECT id FROM stem_groups WHERE expires_at <= ? LIMIT ${PRUNE_BATCH}`;
const DELETE_GROUP_RESULTS =
  "DELETE FROM stem_group_results WHERE group_id IN (SELECT value FROM json_each(?))";
const DELETE_GROUPS = "DELETE FROM stem_groups WHERE id IN (SELECT value FROM json_each(?))";

export type PruneCounts = Record<keyof typeof STATEMENTS | "groups", number>;

export interface PruneSettings {
  historyRetentionMs: number;
  intervalMs: number;
}

/** Prunes one database now and then; the connection calls `maybePrune` after writes. */
export class Pruner {
  private lastRunAt = Number.NEGATIVE_INFINITY;
  private running = false;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly settings: PruneSettings,
  ) {}

  /**
   * Prunes when the interval has passed since the last complete run. Runs after another
   * write has committed, so a failure here must not fail that write: it is reported as
   * a process warning and retried after the interval.
   */
  maybePrune(): void {
    if (this.running || this.db.isClosed) return;
    const now = this.db.now();
    if (now - this.lastRunAt < this.settings.intervalMs) return;
    try {
      this.prune();
    } catch (error) {
      this.lastRunAt = now;
      process.emitWarning(
        `pruning SQLite database ${this.db.location} failed: ${toError(error).message}`,
      );
    }
  }

  /** Deletes one batch of every kind of expired row; returns how many of each. */
  prune(): PruneCounts {
    this.running = true;
    try {
      const now = this.db.now();
      const retention: Partial<PruneCounts> = {
        controlMessages: CONTROL_RETENTION_MS,
        history: this.settings.historyRetentionMs,
      };
      const counts = this.db.write(() => {
        const out = { groups: this.pruneGroups(now) } as PruneCounts;
        for (const [kind, sql] of Object.entries(STATEMENTS) as [
          keyof typeof STATEMENTS,
          string,
        ][]) {
          const before = now - (retention[kind] ?? 0);
          out[kind] = this.db.statement<unknown, [{ before: number }]>(sql).run({ before }).changes;
        }
        return out;
      });
      // A full batch means more is waiting: leave lastRunAt so the next write continues.
      if (!Object.values(counts).some((n) => n >= PRUNE_BATCH)) this.lastRunAt = now;
      return counts;
    } finally {
      this.running = false;
    }
  }

  private pruneGroups(now: number): number {
    const ids = this.db.statement<{ id: string }, [number]>(EXPIRED_GROUPS).all(now);
    if (ids.length === 0) return 0;
    const list = JSON.stringify(ids.map((row) => row.id));
    this.db.statement<unknown, [string]>(DELETE_GROUP_RESULTS).run(list);
    return this.db.statement<unknown, [string]>(DELETE_GROUPS).run(list).changes;
  }
}
