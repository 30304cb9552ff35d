import { StemError } from "../../../core/errors.ts";
import { logicalCursor, rewindCut } from "../../../workflow/checkpoints.ts";
import * as t from "../../../workflow/run-transitions.ts";
import { TransitionWorkflowStore } from "../../../workflow/transition-store.ts";
import type {
  CreateWorkflowRun,
  WorkflowFence,
  WorkflowRun,
  WorkflowRunQuery,
  WorkflowStepEntry,
  WorkflowStore,
  WorkflowWatcher,
  WorkflowWatcherResolution,
} from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";
import { deleteExpiredEvents, keepEvent, takeEvent } from "./events.ts";
import {
  deleteRuns,
  dueRunIds,
  finishedRunIds,
  insertRun,
  listRunnableRuns,
  listRuns,
  readRun,
  runsWaitingOn,
  writeRun,
} from "./runs.ts";
import { deleteStepsFrom, listSteps, readStep, upsertStep } from "./steps.ts";
import { deleteWatcher, upsertWatcher, watchersOf } from "./watchers.ts";

/**
 * Workflow runs in a SQLite file, shared by every worker and CLI process using it. Each
 * change reads the run, applies the shared transition and writes it back inside one
 * BEGIN IMMEDIATE transaction, so changes from several processes never interleave.
 */
export class SqliteWorkflowStore extends TransitionWorkflowStore implements WorkflowStore {
  constructor(private readonly db: SqliteDatabase) {
    super();
  }

  private mustRead(runId: string): t.StoredRun {
    const stored = readRun(this.db, runId);
    if (!stored) throw t.runNotFound(runId);
    return stored;
  }

  /** Writes a changed run back, dropping its watcher when it no longer waits on a topic. */
  private save(stored: t.StoredRun): void {
    writeRun(this.db, stored);
    if (stored.run.waitTopic === null) deleteWatcher(this.db, stored.run.id);
  }

  protected change<T>(
    runId: string,
    apply: (stored: t.StoredRun, now: number) => T,
    fence?: number,
  ): T {
    return this.db.write(() => {
      const stored = this.mustRead(runId);
      t.checkFence(stored.run, fence);
      const result = apply(stored, this.db.now());
      // A transition that returns false or null changed nothing.
      if (result !== false && result !== null) this.save(stored);
      return result;
    });
  }

  async createRun(input: CreateWorkflowRun): Promise<string> {
    const stored = t.newRun(input, this.db.now());
    const inserted = this.db.write(() => insertRun(this.db, stored));
    if (!inserted) throw t.duplicateRun(stored.run.id);
    return stored.run.id;
  }

  async get(runId: string): Promise<WorkflowRun | null> {
    return this.db.single(() => readRun(this.db, runId)?.run ?? null);
  }

  async listRuns(query: WorkflowRunQuery = {}): Promise<WorkflowRun[]> {
    const limit = query.limit ?? t.DEFAULT_RUN_LIST_LIMIT;
    const offset = query.offset ?? 0;
    return this.db.single(() => listRuns(this.db, { ...query, limit, offset }));
  }

  async listRunnableRuns(
    options: { limit?: number; offset?: number } = {},
  ): Promise<WorkflowRun[]> {
    const limit = options.limit ?? t.DEFAULT_RUN_LIST_LIMIT;
    return this.db.single(() =>
      listRunnableRuns(this.db, this.db.now(), limit, options.offset ?? 0),
    );
  }

  async readStep(runId: string, step: string): Promise<unknown> {
    return this.db.single(() => readStep(this.db, runId, step));
  }

  async saveStep(
    runId: string,
    step: string,
    value: unknown,
    options: WorkflowFence = {},
  ): Promise<void> {
    this.db.write(() => {
      const stored = this.mustRead(runId);
      t.checkFence(stored.run, options.fence);
      const now = this.db.now();
      upsertStep(this.db, runId, step, value, now);
      const names = listSteps(this.db, runId).map((e) => e.name);
      t.checkpointSaved(stored, logicalCursor(names), now);
      writeRun(this.db, stored);
    });
  }

  async listSteps(runId: string): Promise<WorkflowStepEntry[]> {
    return this.db.single(() => listSteps(this.db, runId));
  }

  async rewindToStep(runId: string, step: string): Promise<void> {
    this.db.write(() => {
      const stored = this.mustRead(runId);
      const entries = listSteps(this.db, runId);
      const cut = rewindCut(
        entries.map((e) => e.name),
        step,
      );
      if (!cut)
        throw new StemError(
          "not_found",
          `workflow run ${runId} has no checkpoint for step "${step}"`,
        );
      deleteStepsFrom(this.db, runId, entries[cut.keep.length].position);
      t.rewound(stored, step, cut.cursor, this.db.now());
      this.save(stored);
    });
  }

  async suspendUntil(
    runId: string,
    step: string,
    resumeAt: number,
    data?: Record<string, unknown>,
    options: WorkflowFence = {},
  ): Promise<void> {
    this.change(runId, (s, now) => t.suspendUntil(s, step, resumeAt, data, now), options.fence);
  }

  async suspendOnTopic(
    runId: string,
    step: string,
    topic: string,
    options: { deadline?: number; data?: Record<string, unknown> } & WorkflowFence = {},
  ): Promise<WorkflowWatcherResolution | null> {
    return this.db.write(() => {
      const stored = this.mustRead(runId);
      t.checkFence(stored.run, options.fence);
      const now = this.db.now();
      if (!t.suspendOnTopic(stored, step, topic, options.deadline, options.data, now)) return null;
      const watcher = t.watcherFor(runId, step, topic, options.deadline, options.data, now);
      const event = takeEvent(this.db, topic, now);
      const resolution = event ? t.resolveWatcher(stored, watcher, event.payload, now) : null;
      this.save(stored);
      if (!event) upsertWatcher(this.db, watcher);
      return resolution;
    });
  }

  async resolveWatchers(
    topic: string,
    payload: unknown,
    options: { limit?: number; retainFor?: number } = {},
  ): Promise<WorkflowWatcherResolution[]> {
    return this.db.write(() => {
      const now = this.db.now();
      const resolutions: WorkflowWatcherResolution[] = [];
      for (const watcher of watchersOf(this.db, topic, options.limit ?? t.DEFAULT_BATCH)) {
        deleteWatcher(this.db, watcher.runId);
        const stored = readRun(this.db, watcher.runId);
        const resolution = stored && t.resolveWatcher(stored, watcher, payload, now);
        if (!resolution) continue;
        writeRun(this.db, stored);
        resolutions.push(resolution);
      }
      if (resolutions.length === 0 && options.retainFor && options.retainFor > 0)
        keepEvent(this.db, topic, { payload, expiresAt: now + options.retainFor });
      return resolutions;
    });
  }

  async listWatchers(topic: string): Promise<WorkflowWatcher[]> {
    return this.db.single(() => watchersOf(this.db, topic, -1));
  }

  async runsWaitingOn(topic: string): Promise<string[]> {
    return this.db.single(() => runsWaitingOn(this.db, topic));
  }

  async dueRuns(now: number, limit = t.DEFAULT_BATCH): Promise<string[]> {
    return this.db.write(() => {
      const ids = dueRunIds(this.db, now, limit);
      for (const id of ids) {
        const stored = readRun(this.db, id)!;
        t.takenAsDue(stored, this.db.now());
        writeRun(this.db, stored);
        deleteWatcher(this.db, id);
      }
      return ids;
    });
  }

  async pruneRuns(
    before: number,
    options: { limit?: number; dryRun?: boolean } = {},
  ): Promise<number> {
    if (options.dryRun) return this.db.single(() => finishedRunIds(this.db, before, -1).length);
    return this.db.write(() => {
      deleteExpiredEvents(this.db, this.db.now());
      const ids = finishedRunIds(this.db, before, options.limit ?? t.DEFAULT_PRUNE_BATCH);
      deleteRuns(this.db, ids);
      return ids.length;
    });
  }

  /** The connection owns the database; nothing to release here. */
  async close(): Promise<void> {}
}
