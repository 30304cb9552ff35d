/**
 * Workflow store operations that walk an index: listing runs and watchers, and pruning.
 * Each reads the run ids from the index first and then reads or changes those runs with
 * their keys given (a script may only touch the keys it is given), checking each run
 * again at that moment.
 */
import type { WorkflowRun, WorkflowWatcher } from "../contracts.ts";
import type { RedisClient } from "./client.ts";
import type { RedisKeys } from "./keys.ts";
import { listWorkflowRunsScript } from "./lua/list-workflow-runs-n.ts";
import { pruneWorkflowRunsScript } from "./lua/prune-workflow-runs-6-4n.ts";
import { WORKFLOW_STATUSES } from "./lua/workflow-shared.ts";
import { execPipeline, runScript } from "./scripts.ts";
import { decodeRun, decodeWatcher, hashFromReply } from "./workflow-fields.ts";

/** Which runs of an index a page lists: all, those in a status, or those no one holds a live lease on at a time. */
export type RunFilter =
  | { kind: "" }
  | { kind: "status"; status: string }
  | { kind: "runnable"; now: number };

/** Index entries read per step when a filter may pass only a few of them. */
const CHUNK = 200;

/** Candidates per prune script call (four keys each). */
const PRUNE_CHUNK = 250;

const FINISHED = ["completed", "failed", "cancelled"] as const;

/**
 * A page of the runs in a sorted-set index that pass `filter`: newest first (highest
 * score, ties: greater id first) or oldest first, after skipping `offset` of them.
 */
export async function listRunPage(
  client: RedisClient,
  keys: RedisKeys,
  index: string,
  order: "newest" | "oldest",
  filter: RunFilter,
  offset: number,
  limit: number,
): Promise<WorkflowRun[]> {
  const page: WorkflowRun[] = [];
  if (limit < 1) return page;
  // Unfiltered, the page is a slice of the index; filtered, it is found from the start.
  const chunk = filter.kind === "" ? limit : CHUNK;
  let start = filter.kind === "" ? offset : 0;
  let skip = filter.kind === "" ? 0 : offset;
  const value =
    filter.kind === "status" ? filter.status : filter.kind === "runnable" ? filter.now : "";
  for (;;) {
    const end = start + chunk - 1;
    const ids =
      order === "newest"
        ? await client.zrevrange(index, start, end)
        : await client.zrange(index, start, end);
    if (ids.length === 0) return page;
    const [skipped, runs] = await runScript<[number, string[][]]>(
      client,
      listWorkflowRunsScript,
      ids.map((id) => keys.workflowRun(id)),
      [filter.kind, value, skip, limit - page.length],
    );
    skip -= skipped;
    for (const reply of runs) page.push(decodeRun(hashFromReply(reply)));
    if (page.length >= limit || ids.length < chunk) return page;
    start += chunk;
  }
}

/** Every watcher of a topic, oldest first (ties: smaller run id first). */
export async function listTopicWatchers(
  client: RedisClient,
  keys: RedisKeys,
  topic: string,
): Promise<WorkflowWatcher[]> {
  const ids = await client.zrange(keys.workflowWatchers(topic), 0, -1);
  if (ids.length === 0) return [];
  const transaction = client.multi();
  for (const id of ids) {
    transaction.hmget(
      keys.workflowRun(id),
      "watchStep",
      "watchTopic",
      "watchData",
      "watchCreatedAt",
      "watchDeadline",
    );
  }
  const replies = (await execPipeline(transaction)) as (string | null)[][];
  const watchers: WorkflowWatcher[] = [];
  replies.forEach(([step, watchTopic, data, createdAt, deadline], i) => {
    // An index entry whose run has moved on since is skipped, as the scripts do.
    if (watchTopic === null) return;
    watchers.push(
      decodeWatcher([
        ids[i],
        step as string,
        watchTopic,
        data as string,
        createdAt as string,
        deadline,
      ]),
    );
  });
  return watchers;
}

interface PruneCandidate {
  id: string;
  workflow: string;
  updated: number;
}

/**
 * Completed, failed and cancelled runs last updated before `before`, oldest update
 * first (ties: smaller id first). They come from the per-status indexes by creation
 * time: a run updated before `before` was created before it.
 */
async function pruneCandidates(
  client: RedisClient,
  keys: RedisKeys,
  before: number,
): Promise<PruneCandidate[]> {
  const lists = client.multi();
  for (const status of FINISHED) {
    lists.zrangebyscore(keys.workflowRunsIn(status), "-inf", `(${before}`);
  }
  const ids = [...new Set(((await execPipeline(lists)) as string[][]).flat())];
  const found: PruneCandidate[] = [];
  for (let from = 0; from < ids.length; from += 1000) {
    const chunk = ids.slice(from, from + 1000);
    const reads = client.multi();
    for (const id of chunk) reads.hmget(keys.workflowRun(id), "updatedAt", "workflow");
    const replies = (await execPipeline(reads)) as (string | null)[][];
    replies.forEach(([updatedAt, workflow], i) => {
      const updated = Number(updatedAt ?? Number.NaN);
      if (updated < before && workflow !== null) {
        found.push({ id: chunk[i], workflow, updated });
      }
    });
  }
  return found.sort((a, b) => a.updated - b.updated || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Deletes up to `limit` finished runs last updated before `before`, oldest update first,
 * with their checkpoints and index entries; with dryRun, only counts them (all of them).
 * Returns how many runs were (or would be) deleted.
 */
export async function pruneFinishedRuns(
  client: RedisClient,
  keys: RedisKeys,
  before: number,
  limit: number,
  dryRun: boolean,
): Promise<number> {
  const candidates = await pruneCandidates(client, keys, before);
  if (dryRun) return candidates.length;
  const chosen = candidates.slice(0, limit);
  let deleted = 0;
  for (let from = 0; from < chosen.length; from += PRUNE_CHUNK) {
    const chunk = chosen.slice(from, from + PRUNE_CHUNK);
    deleted += await runScript<number>(
      client,
      pruneWorkflowRunsScript,
      [
        keys.workflowRuns,
        ...WORKFLOW_STATUSES.map((status) => keys.workflowRunsIn(status)),
        ...chunk.flatMap(({ id, workflow }) => [
          keys.workflowRun(id),
          keys.workflowSteps(id),
          keys.workflowStepData(id),
          keys.workflowRunsOf(workflow),
        ]),
      ],
      [before, ...chunk.flatMap(({ id, workflow }) => [id, workflow])],
    );
  }
  return deleted;
}
