import { type Clock, systemClock } from "../../core/clock.ts";
import { StemError } from "../../core/errors.ts";
import { logicalCursor, rewindCut } from "../../workflow/checkpoints.ts";
import * as t from "../../workflow/run-transitions.ts";
import { TransitionWorkflowStore } from "../../workflow/transition-store.ts";
import type {
  CreateWorkflowRun,
  WorkflowFence,
  WorkflowRun,
  WorkflowRunQuery,
  WorkflowStepEntry,
  WorkflowStore,
  WorkflowWatcher,
  WorkflowWatcherResolution,
} from "../contracts.ts";

/**
 * Workflow runs in process memory. Every operation runs to completion without awaiting,
 * so each is atomic with respect to the others.
 */
export class MemoryWorkflowStore extends TransitionWorkflowStore implements WorkflowStore {
  private readonly runs = new Map<string, t.StoredRun>();
  private readonly steps = new Map<string, WorkflowStepEntry[]>();
  private readonly watchers = new Map<string, WorkflowWatcher>();
  /** Kept events per topic, oldest first. */
  private readonly events = new Map<string, t.KeptEvent[]>();

  constructor(private readonly clock: Clock = systemClock) {
    super();
  }

  private stored(runId: string): t.StoredRun {
    const stored = this.runs.get(runId);
    if (!stored) throw t.runNotFound(runId);
    return stored;
  }

  /** Drops the watcher of a run that no longer waits on a topic. */
  private settle(stored: t.StoredRun): void {
    if (stored.run.waitTopic === null) this.watchers.delete(stored.run.id);
  }

  protected change<T>(
    runId: string,
    apply: (stored: t.StoredRun, now: number) => T,
    fence?: number,
  ): T {
    const stored = this.stored(runId);
    t.checkFence(stored.run, fence);
    const result = apply(stored, this.clock.now());
    this.settle(stored);
    return result;
  }

  async createRun(input: CreateWorkflowRun): Promise<string> {
    const stored = t.newRun(input, this.clock.now());
    if (this.runs.has(stored.run.id)) throw t.duplicateRun(stored.run.id);
    this.runs.set(stored.run.id, stored);
    this.steps.set(stored.run.id, []);
    return stored.run.id;
  }

  async get(runId: string): Promise<WorkflowRun | null> {
    const stored = this.runs.get(runId);
    return stored ? t.jsonCopy(stored.run) : null;
  }

  async listRuns(query: WorkflowRunQuery = {}): Promise<WorkflowRun[]> {
    const offset = query.offset ?? 0;
    const limit = query.limit ?? t.DEFAULT_RUN_LIST_LIMIT;
    return [...this.runs.values()]
      .map((s) => s.run)
      .filter(
        (r) =>
          (query.workflow === undefined || r.workflow === query.workflow) &&
          (query.status === undefined || r.status === query.status),
      )
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
      .slice(offset, offset + limit)
      .map((r) => t.jsonCopy(r));
  }

  async listRunnableRuns(
    options: { limit?: number; offset?: number } = {},
  ): Promise<WorkflowRun[]> {
    const now = this.clock.now();
    const offset = options.offset ?? 0;
    return [...this.runs.values()]
      .map((s) => s.run)
      .filter((r) => t.isRunnable(r, now))
      .sort((a, b) => a.updatedAt - b.updatedAt || (a.id < b.id ? -1 : 1))
      .slice(offset, offset + (options.limit ?? t.DEFAULT_RUN_LIST_LIMIT))
      .map((r) => t.jsonCopy(r));
  }

  async readStep(runId: string, step: string): Promise<unknown> {
    const entry = this.steps.get(runId)?.find((e) => e.name === step);
    return entry ? t.jsonCopy(entry.value) : undefined;
  }

  async saveStep(
    runId: string,
    step: string,
    value: unknown,
    options: WorkflowFence = {},
  ): Promise<void> {
    const stored = this.stored(runId);
    t.checkFence(stored.run, options.fence);
    const entries = this.steps.get(runId)!;
    const now = this.clock.now();
    const existing = entries.find((e) => e.name === step);
    if (existing) {
      existing.value = t.jsonCopy(value);
      existing.completedAt = now;
    } else {
      const position = entries.length === 0 ? 0 : entries[entries.length - 1].position + 1;
      entries.push({ name: step, value: t.jsonCopy(value), position, completedAt: now });
    }
    t.checkpointSaved(stored, logicalCursor(entries.map((e) => e.name)), now);
  }

  async listSteps(runId: string): Promise<WorkflowStepEntry[]> {
    return t.jsonCopy(this.steps.get(runId) ?? []);
  }

  async rewindToStep(runId: string, step: string): Promise<void> {
    const stored = this.stored(runId);
    const entries = this.steps.get(runId)!;
    const cut = rewindCut(
      entries.map((e) => e.name),
      step,
    );
    if (!cut)
      throw new StemError(
        "not_found",
        `workflow run ${runId} has no checkpoint for step "${step}"`,
      );
    this.steps.set(runId, entries.slice(0, cut.keep.length));
    t.rewound(stored, step, cut.cursor, this.clock.now());
    this.settle(stored);
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
    const stored = this.stored(runId);
    t.checkFence(stored.run, options.fence);
    const now = this.clock.now();
    if (!t.suspendOnTopic(stored, step, topic, options.deadline, options.data, now)) return null;
    const watcher = t.watcherFor(runId, step, topic, options.deadline, options.data, now);
    const event = this.takeEvent(topic, now);
    if (event) {
      const resolution = t.resolveWatcher(stored, watcher, event.payload, now);
      this.settle(stored);
      return resolution;
    }
    this.watchers.set(runId, watcher);
    return null;
  }

  /** Takes the oldest kept event of `topic`, dropping expired ones on the way. */
  private takeEvent(topic: string, now: number): t.KeptEvent | null {
    const kept = this.events.get(topic);
    let event: t.KeptEvent | undefined;
    while (kept && (event = kept.shift()) && !t.isKept(event, now)) event = undefined;
    if (kept && kept.length === 0) this.events.delete(topic);
    return event ?? null;
  }

  async resolveWatchers(
    topic: string,
    payload: unknown,
    options: { limit?: number; retainFor?: number } = {},
  ): Promise<WorkflowWatcherResolution[]> {
    const now = this.clock.now();
    const taken = this.watchersOf(topic).slice(0, options.limit ?? t.DEFAULT_BATCH);
    const resolutions: WorkflowWatcherResolution[] = [];
    for (const watcher of taken) {
      this.watchers.delete(watcher.runId);
      const stored = this.runs.get(watcher.runId);
      const resolution = stored && t.resolveWatcher(stored, watcher, payload, now);
      if (resolution) resolutions.push(resolution);
    }
    if (resolutions.length === 0 && options.retainFor && options.retainFor > 0) {
      const kept = this.events.get(topic) ?? [];
      kept.push({ payload: t.jsonCopy(payload), expiresAt: now + options.retainFor });
      this.events.set(topic, kept);
    }
    return resolutions;
  }

  private watchersOf(topic: string): WorkflowWatcher[] {
    return [...this.watchers.values()]
      .filter((w) => w.topic === topic)
      .sort((a, b) => a.createdAt - b.createdAt || (a.runId < b.runId ? -1 : 1));
  }

  async listWatchers(topic: string): Promise<WorkflowWatcher[]> {
    return t.jsonCopy(this.watchersOf(topic));
  }

  async runsWaitingOn(topic: string): Promise<string[]> {
    return [...this.runs.values()]
      .filter((s) => s.run.status === "suspended" && s.run.waitTopic === topic)
      .sort((a, b) => a.run.updatedAt - b.run.updatedAt)
      .map((s) => s.run.id);
  }

  async dueRuns(now: number, limit = t.DEFAULT_BATCH): Promise<string[]> {
    const due = [...this.runs.values()]
      .filter((s) => t.isDue(s, now))
      .sort((a, b) => a.dueAt! - b.dueAt! || (a.run.id < b.run.id ? -1 : 1))
      .slice(0, limit);
    for (const stored of due) {
      t.takenAsDue(stored, this.clock.now());
      this.watchers.delete(stored.run.id);
    }
    return due.map((s) => s.run.id);
  }

  async pruneRuns(
    before: number,
    options: { limit?: number; dryRun?: boolean } = {},
  ): Promise<number> {
    const prunable = [...this.runs.values()]
      .map((s) => s.run)
      .filter((r) => t.isPrunable(r, before))
      .sort((a, b) => a.updatedAt - b.updatedAt || (a.id < b.id ? -1 : 1));
    if (options.dryRun) return prunable.length;
    const now = this.clock.now();
    for (const [topic, kept] of this.events) {
      const live = kept.filter((e) => t.isKept(e, now));
      if (live.length > 0) this.events.set(topic, live);
      else this.events.delete(topic);
    }
    const deleted = prunable.slice(0, options.limit ?? t.DEFAULT_PRUNE_BATCH);
    for (const run of deleted) {
      this.runs.delete(run.id);
      this.steps.delete(run.id);
      this.watchers.delete(run.id);
    }
    return deleted.length;
  }

  async close(): Promise<void> {}
}
