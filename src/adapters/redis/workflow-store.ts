/**
 * Workflow runs on Redis. A run is a hash (lua/workflow-shared.ts describes its fields)
 * indexed by sorted sets: all runs, runs per workflow and per status by creation time,
 * running runs by last update, suspended runs by due time, event watchers and waiting
 * runs per topic. Checkpoints are a sorted set of names by position plus a hash of
 * values. Every change to a run is one Lua script call, so it is atomic with respect to
 * every other client of the server; a script touches only the keys it is given
 * (workflow-script-runner.ts), so operations that find runs through an index read the
 * index first (workflow-index-scans.ts, dueRuns). Times come from the store's clock and
 * are passed in.
 */

import { type Clock, systemClock } from "../../core/clock.ts";
import { StemError, WorkflowFenceError } from "../../core/errors.ts";
import { baseStepName } from "../../workflow/checkpoints.ts";
import * as t from "../../workflow/run-transitions.ts";
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
import type { RedisClient } from "./client.ts";
import type { RedisKeys } from "./keys.ts";
import { claimWorkflowRunScript } from "./lua/claim-workflow-run-8-2t.ts";
import { createWorkflowRunScript } from "./lua/create-workflow-run-10-2t.ts";
import { listWorkflowRunsScript } from "./lua/list-workflow-runs-n.ts";
import { pruneWorkflowRunsScript } from "./lua/prune-workflow-runs-6-4n.ts";
import { releaseWorkflowRunScript } from "./lua/release-workflow-run-8-2t.ts";
import { renewWorkflowLeaseScript } from "./lua/renew-workflow-lease-8-2t.ts";
import { resolveWorkflowWatchersScript } from "./lua/resolve-workflow-watchers-9-2t-n.ts";
import { rewindWorkflowRunScript } from "./lua/rewind-workflow-run-10-2t.ts";
import { saveWorkflowStepScript } from "./lua/save-workflow-step-10-2t.ts";
import { suspendWorkflowOnTopicScript } from "./lua/suspend-workflow-on-topic-9-2t.ts";
import { takeDueWorkflowRunsScript } from "./lua/take-due-workflow-runs-7-2t-n.ts";
import { updateWorkflowRunScript } from "./lua/update-workflow-run-8-2t.ts";
import { execPipeline, type LuaScript } from "./scripts.ts";
import {
  decodeRun,
  type FieldPatch,
  patchArgs,
  runPatch,
  transitionPatch,
  watcherPatch,
} from "./workflow-fields.ts";
import {
  listRunPage,
  listTopicWatchers,
  pruneFinishedRuns,
  type RunFilter,
} from "./workflow-index-scans.ts";
import { type WorkflowScriptCall, WorkflowScriptRunner } from "./workflow-script-runner.ts";

/** Every script the workflow store runs. */
export const WORKFLOW_SCRIPTS: readonly LuaScript[] = [
  createWorkflowRunScript,
  updateWorkflowRunScript,
  saveWorkflowStepScript,
  rewindWorkflowRunScript,
  claimWorkflowRunScript,
  renewWorkflowLeaseScript,
  releaseWorkflowRunScript,
  resolveWorkflowWatchersScript,
  suspendWorkflowOnTopicScript,
  pruneWorkflowRunsScript,
  takeDueWorkflowRunsScript,
  listWorkflowRunsScript,
];

/** What the change scripts return. */
const MISSING = -1;
const REFUSED = 0;
const FENCED = -2;

/** A fence as a script argument ('' = not fenced). */
const fenceArg = (fence: number | undefined) => (fence === undefined ? "" : fence);

/** A non-negative whole number from a caller's limit or offset. */
const count = (n: number) => Math.max(0, Math.floor(n));

/** The topics a patch sets a run to wait on or watch, whose keys its script needs. */
const patchTopics = (patch: FieldPatch): string[] =>
  [patch.waitTopic, patch.watchTopic].filter((topic) => typeof topic === "string");

export class RedisWorkflowStore implements WorkflowStore {
  private readonly scripts: WorkflowScriptRunner;

  /** `client` must have WORKFLOW_SCRIPTS registered. */
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly clock: Clock = systemClock,
  ) {
    this.scripts = new WorkflowScriptRunner(client, keys);
  }

  /**
   * Runs a script on one run; throws not_found when the run does not exist and
   * WorkflowFenceError when `fence` is stale.
   */
  private async onRun<R = number>(
    script: LuaScript,
    runId: string,
    call: WorkflowScriptCall,
    fence?: number,
  ): Promise<R> {
    const reply = await this.scripts.run<R>(script, call);
    if (reply === MISSING) throw t.runNotFound(runId);
    if (reply === FENCED) throw new WorkflowFenceError(runId, fence ?? 0, null);
    return reply;
  }

  /** Applies a shared status transition unless the run is finished; true when applied. */
  private async update(runId: string, patch: FieldPatch, fence?: number): Promise<boolean> {
    const reply = await this.onRun(
      updateWorkflowRunScript,
      runId,
      {
        keys: [this.keys.workflowRun(runId)],
        topics: patchTopics(patch),
        args: [fenceArg(fence), ...patchArgs(patch)],
      },
      fence,
    );
    return reply !== REFUSED;
  }

  async createRun(input: CreateWorkflowRun): Promise<string> {
    const stored = t.newRun(input, this.clock.now());
    const { id, workflow } = stored.run;
    const patch = runPatch(stored);
    const created = await this.scripts.run<number>(createWorkflowRunScript, {
      keys: [this.keys.workflowRun(id), this.keys.workflowRuns, this.keys.workflowRunsOf(workflow)],
      topics: patchTopics(patch),
      args: patchArgs(patch),
    });
    if (created !== 1) throw t.duplicateRun(id);
    return id;
  }

  async get(runId: string): Promise<WorkflowRun | null> {
    const hash = await this.client.hgetall(this.keys.workflowRun(runId));
    return hash.id === undefined ? null : decodeRun(hash);
  }

  async listRuns(query: WorkflowRunQuery = {}): Promise<WorkflowRun[]> {
    // The narrowest index: a workflow's runs (then filtered by status), a status's runs, or all.
    const index =
      query.workflow !== undefined
        ? this.keys.workflowRunsOf(query.workflow)
        : query.status !== undefined
          ? this.keys.workflowRunsIn(query.status)
          : this.keys.workflowRuns;
    // Within a workflow's runs, the status is a filter.
    const filter: RunFilter =
      query.workflow !== undefined && query.status !== undefined
        ? { kind: "status", status: query.status }
        : { kind: "" };
    return listRunPage(
      this.client,
      this.keys,
      index,
      "newest",
      filter,
      count(query.offset ?? 0),
      count(query.limit ?? t.DEFAULT_RUN_LIST_LIMIT),
    );
  }

  async listRunnableRuns(
    options: { limit?: number; offset?: number } = {},
  ): Promise<WorkflowRun[]> {
    // Oldest update first (ties: smaller id first).
    return listRunPage(
      this.client,
      this.keys,
      this.keys.workflowRunning,
      "oldest",
      { kind: "runnable", now: this.clock.now() },
      count(options.offset ?? 0),
      count(options.limit ?? t.DEFAULT_RUN_LIST_LIMIT),
    );
  }

  async readStep(runId: string, step: string): Promise<unknown> {
    const text = await this.client.hget(this.keys.workflowStepData(runId), `v:${step}`);
    return text === null ? undefined : JSON.parse(text);
  }

  async saveStep(
    runId: string,
    step: string,
    value: unknown,
    options: WorkflowFence = {},
  ): Promise<void> {
    await this.onRun(
      saveWorkflowStepScript,
      runId,
      {
        keys: [
          this.keys.workflowRun(runId),
          this.keys.workflowSteps(runId),
          this.keys.workflowStepData(runId),
        ],
        args: [
          step,
          JSON.stringify(value) ?? "null",
          this.clock.now(),
          baseStepName(step),
          fenceArg(options.fence),
        ],
      },
      options.fence,
    );
  }

  async listSteps(runId: string): Promise<WorkflowStepEntry[]> {
    const [names, data] = (await execPipeline(
      this.client
        .multi()
        .zrange(this.keys.workflowSteps(runId), 0, -1, "WITHSCORES")
        .hgetall(this.keys.workflowStepData(runId)),
    )) as [string[], Record<string, string>];
    const entries: WorkflowStepEntry[] = [];
    for (let i = 0; i < names.length; i += 2) {
      const name = names[i];
      entries.push({
        name,
        value: JSON.parse(data[`v:${name}`]),
        position: Number(names[i + 1]),
        completedAt: Number(data[`t:${name}`]),
      });
    }
    return entries;
  }

  async rewindToStep(runId: string, step: string): Promise<void> {
    const patch = transitionPatch((s) => t.rewound(s, step, 0, this.clock.now()));
    // The cursor is what is left after the cut, which only the script knows.
    delete patch.cursor;
    const reply = await this.onRun(rewindWorkflowRunScript, runId, {
      keys: [
        this.keys.workflowRun(runId),
        this.keys.workflowSteps(runId),
        this.keys.workflowStepData(runId),
      ],
      topics: patchTopics(patch),
      args: [baseStepName(step), ...patchArgs(patch)],
    });
    if (reply === REFUSED) {
      throw new StemError(
        "not_found",
        `workflow run ${runId} has no checkpoint for step "${step}"`,
      );
    }
  }

  async suspendUntil(
    runId: string,
    step: string,
    resumeAt: number,
    data?: Record<string, unknown>,
    options: WorkflowFence = {},
  ): Promise<void> {
    const now = this.clock.now();
    await this.update(
      runId,
      transitionPatch((s) => t.suspendUntil(s, step, resumeAt, data, now)),
      options.fence,
    );
  }

  async suspendOnTopic(
    runId: string,
    step: string,
    topic: string,
    options: { deadline?: number; data?: Record<string, unknown> } & WorkflowFence = {},
  ): Promise<WorkflowWatcherResolution | null> {
    const now = this.clock.now();
    let patch: FieldPatch;
    try {
      patch = transitionPatch((s) =>
        t.suspendOnTopic(s, step, topic, options.deadline, options.data, now),
      );
    } catch (error) {
      // An unknown run is reported before a bad topic, as by the other stores.
      if (!(await this.client.exists(this.keys.workflowRun(runId)))) throw t.runNotFound(runId);
      throw error;
    }
    const watcher = t.watcherFor(runId, step, topic, options.deadline, options.data, now);
    const reply = await this.onRun<number | string>(
      suspendWorkflowOnTopicScript,
      runId,
      {
        keys: [this.keys.workflowRun(runId), this.keys.workflowEvents(topic)],
        topics: [topic],
        args: [
          fenceArg(options.fence),
          now,
          JSON.stringify(topic),
          ...patchArgs({ ...patch, ...watcherPatch(watcher) }),
        ],
      },
      options.fence,
    );
    if (typeof reply !== "string") return null;
    return {
      runId,
      stepName: step,
      topic,
      resumeData: JSON.parse(reply) as Record<string, unknown>,
    };
  }

  async resolveWatchers(
    topic: string,
    payload: unknown,
    options: { limit?: number; retainFor?: number } = {},
  ): Promise<WorkflowWatcherResolution[]> {
    // The script names the watchers it finds (the first call gives none), then takes them.
    const replies = await this.scripts.run<[string, string, string][]>(
      resolveWorkflowWatchersScript,
      {
        keys: [this.keys.workflowWatchers(topic), this.keys.workflowEvents(topic)],
        topics: [topic],
        args: [
          count(options.limit ?? t.DEFAULT_BATCH),
          this.clock.now(),
          JSON.stringify(payload) ?? "null",
          JSON.stringify(topic),
          count(options.retainFor ?? 0),
        ],
      },
    );
    return replies.map(([runId, stepName, resumeData]) => ({
      runId,
      stepName,
      topic,
      resumeData: JSON.parse(resumeData) as Record<string, unknown>,
    }));
  }

  async listWatchers(topic: string): Promise<WorkflowWatcher[]> {
    return listTopicWatchers(this.client, this.keys, topic);
  }

  async runsWaitingOn(topic: string): Promise<string[]> {
    return this.client.zrange(this.keys.workflowWaiting(topic), 0, -1);
  }

  async dueRuns(now: number, limit = t.DEFAULT_BATCH): Promise<string[]> {
    if (count(limit) < 1) return [];
    // Candidates first; the script takes those still due (under contention, maybe fewer).
    const candidates = await this.client.zrangebyscore(
      this.keys.workflowDue,
      "-inf",
      now,
      "LIMIT",
      0,
      count(limit),
    );
    if (candidates.length === 0) return [];
    return this.scripts.run<string[]>(takeDueWorkflowRunsScript, {
      keys: [],
      runIds: candidates,
      args: [now, this.clock.now() + t.DUE_REDELIVERY_MS],
    });
  }

  async markRunning(
    runId: string,
    options: { stepName?: string } & WorkflowFence = {},
  ): Promise<void> {
    const now = this.clock.now();
    await this.update(
      runId,
      transitionPatch((s) => t.markRunning(s, now, options.stepName)),
      options.fence,
    );
  }

  async markCompleted(runId: string, result: unknown, options: WorkflowFence = {}): Promise<void> {
    const now = this.clock.now();
    await this.update(
      runId,
      transitionPatch((s) => t.markCompleted(s, result, now)),
      options.fence,
    );
  }

  async markFailed(
    runId: string,
    error: { message: string; type?: string; stack?: string },
    options: { terminal?: boolean } & WorkflowFence = {},
  ): Promise<void> {
    const now = this.clock.now();
    await this.update(
      runId,
      transitionPatch((s) => t.markFailed(s, error, options.terminal ?? false, now)),
      options.fence,
    );
  }

  async markResumed(runId: string, data?: Record<string, unknown>): Promise<void> {
    const now = this.clock.now();
    await this.update(
      runId,
      transitionPatch((s) => t.markResumed(s, data, now)),
    );
  }

  async cancel(
    runId: string,
    reason?: string,
    details?: Record<string, unknown>,
  ): Promise<boolean> {
    const now = this.clock.now();
    return this.update(
      runId,
      transitionPatch((s) => t.cancel(s, reason, details, now)),
    );
  }

  async claimRun(runId: string, ownerId: string, leaseMs: number): Promise<number | null> {
    const now = this.clock.now();
    const reply = await this.onRun(claimWorkflowRunScript, runId, {
      keys: [this.keys.workflowRun(runId)],
      args: [ownerId, now, now + leaseMs],
    });
    return reply > 0 ? reply : null;
  }

  async renewRunLease(
    runId: string,
    ownerId: string,
    leaseMs: number,
    options: WorkflowFence = {},
  ): Promise<boolean> {
    const now = this.clock.now();
    const reply = await this.onRun(renewWorkflowLeaseScript, runId, {
      keys: [this.keys.workflowRun(runId)],
      args: [ownerId, now, now + leaseMs, fenceArg(options.fence)],
    });
    return reply === 1;
  }

  async releaseRun(runId: string, ownerId: string, options: WorkflowFence = {}): Promise<void> {
    await this.onRun(releaseWorkflowRunScript, runId, {
      keys: [this.keys.workflowRun(runId)],
      args: [ownerId, fenceArg(options.fence)],
    });
  }

  async pruneRuns(
    before: number,
    options: { limit?: number; dryRun?: boolean } = {},
  ): Promise<number> {
    return pruneFinishedRuns(
      this.client,
      this.keys,
      before,
      count(options.limit ?? t.DEFAULT_PRUNE_BATCH),
      options.dryRun ?? false,
    );
  }

  /** The connection owns the client; nothing to release here. */
  async close(): Promise<void> {}
}
