/**
 * Workflow runs in Postgres, shared by every process on the schema. A change locks the
 * run's row (which also holds its event watcher), applies the shared transition and
 * writes the row back in one transaction, so changes to a run never interleave;
 * resolveWatchers locks every run it resumes the same way, and dueRuns is one statement.
 * Times come from the store's clock and are passed in.
 */
import type postgres from "postgres";
import type {
  CreateWorkflowRun,
  WorkflowRun,
  WorkflowFence,
  WorkflowRunQuery,
  WorkflowStepEntry,
  WorkflowStore,
  WorkflowWatcher,
  WorkflowWatcherResolution,
} from "../contracts.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { StemError } from "../../core/errors.ts";
import { logicalCursor, rewindCut } from "../../workflow/checkpoints.ts";
import * as t from "../../workflow/run-transitions.ts";
import type { PgDatabase } from "./database.ts";
import { countPrunableWorkflowRuns, pruneWorkflowRuns } from "./sql/prune-workflow-runs.ts";
import { takeDueWorkflowRuns } from "./sql/take-due-workflow-runs.ts";
import { deleteExpiredEvents, keepEvent, lockTopic, takeEvent } from "./sql/workflow-events.ts";
import {
  insertRun,
  listRunnableRuns,
  listRuns,
  listWatchers,
  lockRun,
  lockWatchedRuns,
  readRun,
  type RunRecord,
  runsWaitingOn,
  writeRuns,
} from "./sql/workflow-runs.ts";
import { deleteStepsFrom, listSteps, readStep, upsertStep } from "./sql/workflow-steps.ts";

/** Postgres aborted the transaction to break a deadlock, or over a serialization conflict. */
const RETRYABLE = new Set(["40P01", "40001"]);
const TRANSACTION_ATTEMPTS = 5;

/** A non-negative whole number from a caller's limit or offset. */
const count = (n: number) => Math.max(0, Math.floor(n));

/** Drops the watcher of a run that no longer waits on a topic. */
function settle(record: RunRecord): void {
  if (record.stored.run.waitTopic === null) record.watcher = null;
}

export class PostgresWorkflowStore implements WorkflowStore {
  constructor(
    private readonly db: PgDatabase,
    private readonly clock: Clock = systemClock,
  ) {}

  private get schema(): string {
    return this.db.schema;
  }

  /**
   * Runs `body` in a transaction. Resolvers lock several runs in watcher order, which
   * can deadlock with another resolver when a watcher was re-registered in between;
   * Postgres then aborts one of them, and it is run again.
   */
  private async transaction<T>(
    what: string,
    body: (tx: postgres.TransactionSql) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.run(what, (sql) => sql.begin((tx) => body(tx)) as Promise<T>);
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code !== "string" || !RETRYABLE.has(code) || attempt >= TRANSACTION_ATTEMPTS)
          throw error;
      }
    }
  }

  /**
   * Locks the run, applies `apply` and writes the run back unless it returned false
   * (a transition that changed nothing). Unknown runs are not_found errors.
   */
  private change<T>(
    what: string,
    runId: string,
    apply: (record: RunRecord, now: number) => T,
    fence?: number,
  ): Promise<T> {
    return this.transaction(what, async (tx) => {
      const record = await lockRun(tx, this.schema, runId);
      if (!record) throw t.runNotFound(runId);
      t.checkFence(record.stored.run, fence);
      const result = apply(record, this.clock.now());
      if (result !== false) {
        settle(record);
        await writeRuns(tx, this.schema, [record]);
      }
      return result;
    });
  }

  async createRun(input: CreateWorkflowRun): Promise<string> {
    const stored = t.newRun(input, this.clock.now());
    const inserted = await this.db.run("create workflow run", (sql) =>
      insertRun(sql, this.schema, stored),
    );
    if (!inserted) throw t.duplicateRun(stored.run.id);
    return stored.run.id;
  }

  get(runId: string): Promise<WorkflowRun | null> {
    return this.db.run("read workflow run", (sql) => readRun(sql, this.schema, runId));
  }

  listRuns(query: WorkflowRunQuery = {}): Promise<WorkflowRun[]> {
    const limit = count(query.limit ?? t.DEFAULT_RUN_LIST_LIMIT);
    const offset = count(query.offset ?? 0);
    return this.db.run("list workflow runs", (sql) =>
      listRuns(sql, this.schema, { ...query, limit, offset }),
    );
  }

  listRunnableRuns(options: { limit?: number; offset?: number } = {}): Promise<WorkflowRun[]> {
    const limit = count(options.limit ?? t.DEFAULT_RUN_LIST_LIMIT);
    const offset = count(options.offset ?? 0);
    return this.db.run("list runnable workflow runs", (sql) =>
      listRunnableRuns(sql, this.schema, this.clock.now(), limit, offset),
    );
  }

  readStep(runId: string, step: string): Promise<unknown> {
    return this.db.run("read workflow step", (sql) => readStep(sql, this.schema, runId, step));
  }

  async saveStep(
    runId: string,
    step: string,
    value: unknown,
    options: WorkflowFence = {},
  ): Promise<void> {
    await this.transaction("save workflow step", async (tx) => {
      const record = await lockRun(tx, this.schema, runId);
      if (!record) throw t.runNotFound(runId);
      t.checkFence(record.stored.run, options.fence);
      const now = this.clock.now();
      const names = (await listSteps(tx, this.schema, runId)).map((e) => e.name);
      await upsertStep(tx, this.schema, runId, step, value, now);
      t.checkpointSaved(record.stored, logicalCursor([...names, step]), now);
      await writeRuns(tx, this.schema, [record]);
    });
  }

  listSteps(runId: string): Promise<WorkflowStepEntry[]> {
    return this.db.run("list workflow steps", (sql) => listSteps(sql, this.schema, runId));
  }

  async rewindToStep(runId: string, step: string): Promise<void> {
    await this.transaction("rewind workflow run", async (tx) => {
      const record = await lockRun(tx, this.schema, runId);
      if (!record) throw t.runNotFound(runId);
      const entries = await listSteps(tx, this.schema, runId);
      const cut = rewindCut(
        entries.map((e) => e.name),
        step,
      );
      if (!cut) {
        throw new StemError(
          "not_found",
          `workflow run ${runId} has no checkpoint for step "${step}"`,
        );
      }
      await deleteStepsFrom(tx, this.schema, runId, entries[cut.keep.length].position);
      t.rewound(record.stored, step, cut.cursor, this.clock.now());
      settle(record);
      await writeRuns(tx, this.schema, [record]);
    });
  }

  async suspendUntil(
    runId: string,
    step: string,
    resumeAt: number,
    data?: Record<string, unknown>,
    options: WorkflowFence = {},
  ): Promise<void> {
    await this.change(
      "suspend workflow run",
      runId,
      (r, now) => t.suspendUntil(r.stored, step, resumeAt, data, now),
      options.fence,
    );
  }

  suspendOnTopic(
    runId: string,
    step: string,
    topic: string,
    options: { deadline?: number; data?: Record<string, unknown> } & WorkflowFence = {},
  ): Promise<WorkflowWatcherResolution | null> {
    return this.transaction("suspend workflow run on a topic", async (tx) => {
      // The topic before the row, as resolveWatchers takes them, so the two cannot deadlock.
      await lockTopic(tx, this.schema, topic);
      const record = await lockRun(tx, this.schema, runId);
      if (!record) throw t.runNotFound(runId);
      t.checkFence(record.stored.run, options.fence);
      const now = this.clock.now();
      const { stored } = record;
      if (!t.suspendOnTopic(stored, step, topic, options.deadline, options.data, now)) return null;
      const watcher = t.watcherFor(runId, step, topic, options.deadline, options.data, now);
      const event = await takeEvent(tx, this.schema, topic, now);
      const resolution = event ? t.resolveWatcher(stored, watcher, event.payload, now) : null;
      record.watcher = event ? null : watcher;
      settle(record);
      await writeRuns(tx, this.schema, [record]);
      return resolution;
    });
  }

  resolveWatchers(
    topic: string,
    payload: unknown,
    options: { limit?: number; retainFor?: number } = {},
  ): Promise<WorkflowWatcherResolution[]> {
    const limit = count(options.limit ?? t.DEFAULT_BATCH);
    const retainFor = options.retainFor ?? 0;
    return this.transaction("resolve workflow watchers", async (tx) => {
      // Only an emit that may keep its event needs to be ordered with suspensions.
      if (retainFor > 0) await lockTopic(tx, this.schema, topic);
      const records = await lockWatchedRuns(tx, this.schema, topic, limit);
      const now = this.clock.now();
      const resolutions: WorkflowWatcherResolution[] = [];
      for (const record of records) {
        const watcher = record.watcher!;
        record.watcher = null;
        const resolution = t.resolveWatcher(record.stored, watcher, payload, now);
        if (resolution) resolutions.push(resolution);
        settle(record);
      }
      await writeRuns(tx, this.schema, records);
      if (resolutions.length === 0 && retainFor > 0)
        await keepEvent(tx, this.schema, topic, { payload, expiresAt: now + retainFor });
      return resolutions;
    });
  }

  listWatchers(topic: string): Promise<WorkflowWatcher[]> {
    return this.db.run("list workflow watchers", (sql) => listWatchers(sql, this.schema, topic));
  }

  runsWaitingOn(topic: string): Promise<string[]> {
    return this.db.run("list runs waiting on a topic", (sql) =>
      runsWaitingOn(sql, this.schema, topic),
    );
  }

  dueRuns(now: number, limit = t.DEFAULT_BATCH): Promise<string[]> {
    return this.db.run("take due workflow runs", (sql) =>
      takeDueWorkflowRuns(
        sql,
        this.schema,
        now,
        count(limit),
        this.clock.now() + t.DUE_REDELIVERY_MS,
      ),
    );
  }

  async markRunning(
    runId: string,
    options: { stepName?: string } & WorkflowFence = {},
  ): Promise<void> {
    await this.change(
      "mark workflow run running",
      runId,
      (r, now) => t.markRunning(r.stored, now, options.stepName),
      options.fence,
    );
  }

  async markCompleted(runId: string, result: unknown, options: WorkflowFence = {}): Promise<void> {
    await this.change(
      "complete workflow run",
      runId,
      (r, now) => t.markCompleted(r.stored, result, now),
      options.fence,
    );
  }

  async markFailed(
    runId: string,
    error: { message: string; type?: string; stack?: string },
    options: { terminal?: boolean } & WorkflowFence = {},
  ): Promise<void> {
    await this.change(
      "fail workflow run",
      runId,
      (r, now) => t.markFailed(r.stored, error, options.terminal ?? false, now),
      options.fence,
    );
  }

  async markResumed(runId: string, data?: Record<string, unknown>): Promise<void> {
    await this.change("resume workflow run", runId, (r, now) => t.markResumed(r.stored, data, now));
  }

  cancel(runId: string, reason?: string, details?: Record<string, unknown>): Promise<boolean> {
    return this.change("cancel workflow run", runId, (r, now) =>
      t.cancel(r.stored, reason, details, now),
    );
  }

  async claimRun(runId: string, ownerId: string, leaseMs: number): Promise<number | null> {
    const token = await this.change(
      "claim workflow run",
      runId,
      (r, now) => t.claim(r.stored, ownerId, leaseMs, now) ?? false,
    );
    return token === false ? null : token;
  }

  renewRunLease(
    runId: string,
    ownerId: string,
    leaseMs: number,
    options: WorkflowFence = {},
  ): Promise<boolean> {
    return this.change("renew workflow run lease", runId, (r, now) =>
      t.renew(r.stored, ownerId, leaseMs, now, options.fence),
    );
  }

  async releaseRun(runId: string, ownerId: string, options: WorkflowFence = {}): Promise<void> {
    await this.change("release workflow run", runId, (r) =>
      t.release(r.stored, ownerId, options.fence),
    );
  }

  async pruneRuns(
    before: number,
    options: { limit?: number; dryRun?: boolean } = {},
  ): Promise<number> {
    if (options.dryRun) {
      return this.db.run("count prunable workflow runs", (sql) =>
        countPrunableWorkflowRuns(sql, this.schema, before),
      );
    }
    const limit = count(options.limit ?? t.DEFAULT_PRUNE_BATCH);
    return this.transaction("prune workflow runs", async (tx) => {
      await deleteExpiredEvents(tx, this.schema, this.clock.now());
      return pruneWorkflowRuns(tx, this.schema, before, limit);
    });
  }

  /** The connection owns the pool; nothing to release here. */
  async close(): Promise<void> {}
}
