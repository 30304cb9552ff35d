/**
 * Result backend on Redis: one JSON string per task with a PX expiry, a ZSET by updatedAt
 * for listing (with a second ZSET by expiry to drop entries of expired results), group
 * hashes updated by Lua, and heartbeats as expiring keys with an index SET.
 */

import type { TaskStatus } from "../../core/states.ts";
import { checkStatusesStorable } from "../../core/storable.ts";
import { TIMELINE_CAP, type TimelineEntry, withoutTimeline } from "../../core/timeline.ts";
import type {
  GroupDescriptor,
  GroupStatus,
  MinuteCount,
  MinuteCountQuery,
  ResultBackend,
  TaskStatusQuery,
  WorkerHeartbeat,
} from "../contracts.ts";
import { DEFAULT_RESULT_TTL_MS } from "../memory/result-backend.ts";
import type { RedisClient } from "./client.ts";
import type { RedisKeys } from "./keys.ts";
import { addGroupResultScript } from "./lua/add-group-result-2.ts";
import { claimChordScript } from "./lua/claim-chord-1.ts";
import { forgetHeartbeatsScript } from "./lua/forget-heartbeats-1-n.ts";
import { initGroupScript } from "./lua/init-group-2.ts";
import { pruneResultsScript } from "./lua/prune-results-2-n.ts";
import { setStatusesScript } from "./lua/set-statuses-2-2n.ts";
import {
  addMinuteCounts,
  MINUTE_COUNT_SCRIPTS,
  pruneMinuteCounts,
  readMinuteCounts,
} from "./minute-counts.ts";
import {
  execPipeline,
  type LuaScript,
  runScript,
  type ScriptArg,
  type ScriptCall,
} from "./scripts.ts";

/** Every script the result backend runs. */
export const RESULT_SCRIPTS: readonly LuaScript[] = [
  setStatusesScript,
  pruneResultsScript,
  initGroupScript,
  addGroupResultScript,
  claimChordScript,
  forgetHeartbeatsScript,
  ...MINUTE_COUNT_SCRIPTS,
];

/** Index entries of expired results dropped per prune. */
const PRUNE_BATCH = 1000;
/** set() prunes the list index at most this often per instance. */
const PRUNE_INTERVAL_MS = 5000;
/** Statuses read per round trip while listing. */
const LIST_PAGE = 200;

function fieldMap(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

function groupFrom(id: string, groupFlat: string[], resultsFlat: string[]): GroupStatus | null {
  const fields = fieldMap(groupFlat);
  if (fields.expected === undefined) return null;
  const results: Record<number, TaskStatus> = {};
  for (const [index, json] of Object.entries(fieldMap(resultsFlat))) {
    results[Number(index)] = JSON.parse(json) as TaskStatus;
  }
  const group: GroupStatus = {
    id,
    expected: Number(fields.expected),
    results,
    completed: Number(fields.completed ?? 0),
    meta: JSON.parse(fields.meta ?? "{}") as Record<string, unknown>,
  };
  if (fields.callback !== undefined) group.claimedBy = fields.callback;
  return group;
}

export class RedisResultBackend implements ResultBackend {
  private nextPruneAt = 0;

  /** `client` must have RESULT_SCRIPTS registered. */
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly defaultTtlMs = DEFAULT_RESULT_TTL_MS,
  ) {}

  async set(statuses: TaskStatus[], ttlMs = this.defaultTtlMs): Promise<void> {
    if (statuses.length === 0) return;
    const call = this.setCall(statuses, ttlMs);
    await runScript(this.client, call.script, call.keys, call.args);
    if (this.pruneDue()) await this.prune();
  }

  /** The script call that stores `statuses` (`set` without the pruning). */
  setCall(statuses: TaskStatus[], ttlMs = this.defaultTtlMs): ScriptCall {
    return {
      script: setStatusesScript,
      keys: [...this.indexKeys(), ...this.statusKeys(statuses)],
      args: this.statusArgs(statuses, ttlMs),
    };
  }

  /** True when this backend sends its commands over `client` (so they keep its order). */
  usesClient(client: RedisClient): boolean {
    return this.client === client;
  }

  /** First KEYS of the status part of a script: resultsByUpdated, resultsByExpiry. */
  indexKeys(): string[] {
    return [this.keys.resultsByUpdated, this.keys.resultsByExpiry];
  }

  /** Last KEYS of the status part of a script: the result and timeline key of each status. */
  statusKeys(statuses: TaskStatus[]): string[] {
    return statuses.flatMap((status) => [
      this.keys.result(status.id),
      this.keys.timeline(status.id),
    ]);
  }

  /**
   * ARGV of the status part of a script (`store_statuses` in lua/shared.ts): ttl, expiry
   * time, timeline cap, count, then id, updatedAt, JSON and timeline entries (JSON lines)
   * of each status.
   */
  statusArgs(statuses: TaskStatus[], ttlMs = this.defaultTtlMs): ScriptArg[] {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    checkStatusesStorable(statuses);
    const args: ScriptArg[] = [ttl, Date.now() + ttl, TIMELINE_CAP, statuses.length];
    for (const status of statuses) {
      const entries = (status.timeline ?? []).map((entry) => JSON.stringify(entry)).join("\n");
      args.push(status.id, status.updatedAt, JSON.stringify(withoutTimeline(status)), entries);
    }
    return args;
  }

  /** True when the list index is due for pruning (checked after writes). */
  pruneDue(): boolean {
    return Date.now() >= this.nextPruneAt;
  }

  /**
   * Drops a batch of list-index entries of expired results; returns how many. A full
   * batch makes the next write prune again, so the index keeps up with any write rate
   * (results expire as fast as they were written).
   */
  async prune(): Promise<number> {
    this.nextPruneAt = Date.now() + PRUNE_INTERVAL_MS;
    // Candidates by this machine's clock; the script checks each against the server's.
    const ids = await this.client.zrangebyscore(
      this.keys.resultsByExpiry,
      "-inf",
      Date.now(),
      "LIMIT",
      0,
      PRUNE_BATCH,
    );
    if (ids.length === 0) return 0;
    const dropped = await runScript<number>(
      this.client,
      pruneResultsScript,
      [
        this.keys.resultsByUpdated,
        this.keys.resultsByExpiry,
        ...ids.map((id) => this.keys.result(id)),
      ],
      ids,
    );
    if (ids.length >= PRUNE_BATCH) this.nextPruneAt = 0;
    return dropped;
  }

  async get(id: string): Promise<TaskStatus | null> {
    return (await this.getMany([id]))[0];
  }

  /** Statuses with their timelines: one pipelined round trip. */
  async getMany(ids: string[]): Promise<(TaskStatus | null)[]> {
    if (ids.length === 0) return [];
    const pipeline = this.client.pipeline().mget(ids.map((id) => this.keys.result(id)));
    for (const id of ids) pipeline.lrange(this.keys.timeline(id), 0, -1);
    const [texts, ...timelines] = (await execPipeline(pipeline)) as [
      (string | null)[],
      ...string[][],
    ];
    return texts.map((text, i) => {
      if (text === null) return null;
      const status = JSON.parse(text) as TaskStatus;
      if (timelines[i].length > 0)
        status.timeline = timelines[i].map((line) => JSON.parse(line) as TimelineEntry);
      return status;
    });
  }

  /** Statuses without their timelines (for listing). */
  private async getStatusesOnly(ids: string[]): Promise<(TaskStatus | null)[]> {
    const texts = await this.client.mget(ids.map((id) => this.keys.result(id)));
    return texts.map((text) => (text === null ? null : (JSON.parse(text) as TaskStatus)));
  }

  async list(query: TaskStatusQuery = {}): Promise<TaskStatus[]> {
    await this.prune();
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 50;
    const matches: TaskStatus[] = [];
    for (let start = 0; matches.length < offset + limit; start += LIST_PAGE) {
      // The index is scored by updatedAt: a time filter reads only that score range.
      const ids = await this.client.zrevrangebyscore(
        this.keys.resultsByUpdated,
        query.updatedUntil ?? "+inf",
        query.updatedSince ?? "-inf",
        "LIMIT",
        start,
        LIST_PAGE,
      );
      if (ids.length === 0) break;
      const statuses = await this.getStatusesOnly(ids);
      // A null is a result that expired since the last prune; prune() drops its index entry.
      for (const status of statuses) {
        if (
          status !== null &&
          (query.state === undefined || status.state === query.state) &&
          (query.queue === undefined || status.queue === query.queue) &&
          (query.name === undefined || status.name === query.name)
        ) {
          matches.push(status);
        }
      }
    }
    return matches.slice(offset, offset + limit);
  }

  async expire(id: string, ttlMs: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const replies = await execPipeline(
      this.client.multi().pexpire(this.keys.result(id), ttl).pexpire(this.keys.timeline(id), ttl),
    );
    if (replies[0] === 1) await this.client.zadd(this.keys.resultsByExpiry, Date.now() + ttl, id);
  }

  async initGroup(group: GroupDescriptor): Promise<void> {
    await runScript(
      this.client,
      initGroupScript,
      [this.keys.group(group.id), this.keys.groupResults(group.id)],
      [
        group.expected,
        JSON.stringify(group.meta ?? {}),
        Math.max(1, Math.ceil(group.ttlMs ?? this.defaultTtlMs)),
      ],
    );
  }

  async addGroupResult(
    groupId: string,
    index: number,
    status: TaskStatus,
  ): Promise<GroupStatus | null> {
    checkStatusesStorable([status]);
    const reply = await runScript<[string[], string[]] | null>(
      this.client,
      addGroupResultScript,
      [this.keys.group(groupId), this.keys.groupResults(groupId)],
      [index, JSON.stringify(status)],
    );
    return reply === null ? null : groupFrom(groupId, reply[0], reply[1]);
  }

  async getGroup(groupId: string): Promise<GroupStatus | null> {
    const [groupFlat, resultsFlat] = (await execPipeline(
      this.client
        .pipeline()
        .call("HGETALL", this.keys.group(groupId))
        .call("HGETALL", this.keys.groupResults(groupId)),
    )) as [string[], string[]];
    return groupFrom(groupId, groupFlat, resultsFlat);
  }

  async claimChord(groupId: string, owner: string): Promise<boolean> {
    const won = await runScript<number>(
      this.client,
      claimChordScript,
      [this.keys.group(groupId)],
      [owner],
    );
    return won === 1;
  }

  async setHeartbeat(heartbeat: WorkerHeartbeat, ttlMs: number): Promise<void> {
    await execPipeline(
      this.client
        .multi()
        .set(
          this.keys.heartbeat(heartbeat.workerId),
          JSON.stringify(heartbeat),
          "PX",
          Math.max(1, Math.ceil(ttlMs)),
        )
        .sadd(this.keys.heartbeats, heartbeat.workerId),
    );
  }

  async getHeartbeat(workerId: string): Promise<WorkerHeartbeat | null> {
    const text = await this.client.get(this.keys.heartbeat(workerId));
    return text === null ? null : (JSON.parse(text) as WorkerHeartbeat);
  }

  async listHeartbeats(): Promise<WorkerHeartbeat[]> {
    const ids = (await this.client.smembers(this.keys.heartbeats)).sort();
    if (ids.length === 0) return [];
    const texts = await this.client.mget(ids.map((id) => this.keys.heartbeat(id)));
    const gone = ids.filter((_, i) => texts[i] === null);
    if (gone.length > 0) {
      await runScript(
        this.client,
        forgetHeartbeatsScript,
        [this.keys.heartbeats, ...gone.map((id) => this.keys.heartbeat(id))],
        gone,
      );
    }
    return texts
      .filter((t): t is string => t !== null)
      .map((t) => JSON.parse(t) as WorkerHeartbeat);
  }

  async removeHeartbeat(workerId: string): Promise<void> {
    await execPipeline(
      this.client.multi().del(this.keys.heartbeat(workerId)).srem(this.keys.heartbeats, workerId),
    );
  }

  addMinuteCounts(counts: MinuteCount[]): Promise<void> {
    return addMinuteCounts(this.client, this.keys, counts);
  }

  readMinuteCounts(query: MinuteCountQuery): Promise<MinuteCount[]> {
    return readMinuteCounts(this.client, this.keys, query);
  }

  pruneMinuteCounts(before: number): Promise<void> {
    return pruneMinuteCounts(this.client, this.keys, before);
  }

  /** Nothing of its own to release; the connection owns the client. */
  async close(): Promise<void> {}
}
