import { type Clock, systemClock } from "../../core/clock.ts";
import type { TaskState, TaskStatus } from "../../core/states.ts";
import { checkStatusesStorable } from "../../core/storable.ts";
import { appendTimeline, withoutTimeline } from "../../core/timeline.ts";
import type {
  GroupDescriptor,
  GroupStatus,
  MinuteCount,
  MinuteCountQuery,
  ResultBackend,
  TaskStatusQuery,
  WorkerHeartbeat,
} from "../contracts.ts";

/** Results expire after a day unless told otherwise, as in Celery. */
export const DEFAULT_RESULT_TTL_MS = 86_400_000;

/** How often, at most, `set` deletes everything expired (reads skip it meanwhile). */
const PRUNE_INTERVAL_MS = 60_000;

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

function asJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A result backend in process memory. */
export class MemoryResultBackend implements ResultBackend {
  private readonly statuses = new Map<string, Expiring<TaskStatus>>();
  private readonly groups = new Map<string, Expiring<GroupStatus>>();
  private readonly heartbeats = new Map<string, Expiring<WorkerHeartbeat>>();
  /** Minute → "series\ncounter" → value. */
  private readonly minuteCounts = new Map<number, Map<string, number>>();
  private nextPruneAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly defaultTtlMs = DEFAULT_RESULT_TTL_MS,
  ) {}

  private live<T>(map: Map<string, Expiring<T>>, key: string): T | null {
    const item = map.get(key);
    if (!item) return null;
    if (item.expiresAt <= this.clock.now()) {
      map.delete(key);
      return null;
    }
    return item.value;
  }

  /** Deletes every expired status, group and heartbeat, so unread ones do not pile up. */
  private pruneWhenDue(now: number): void {
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + PRUNE_INTERVAL_MS;
    for (const map of [this.statuses, this.groups, this.heartbeats] as Map<
      string,
      Expiring<unknown>
    >[]) {
      for (const [key, item] of map) if (item.expiresAt <= now) map.delete(key);
    }
  }

  async set(statuses: TaskStatus[], ttlMs = this.defaultTtlMs): Promise<void> {
    this.store(statuses, ttlMs);
  }

  /** `set` at once, without yielding (the broker's atomic steps use it). */
  store(statuses: TaskStatus[], ttlMs = this.defaultTtlMs): void {
    this.pruneWhenDue(this.clock.now());
    const expiresAt = this.clock.now() + ttlMs;
    checkStatusesStorable(statuses);
    // Stored as the real backends store it: as JSON (undefined fields and functions dropped).
    for (const s of statuses) {
      const value = asJson(withoutTimeline(s));
      const timeline = appendTimeline(this.live(this.statuses, s.id)?.timeline, s.timeline);
      if (timeline.length > 0) value.timeline = asJson(timeline);
      this.statuses.set(s.id, { value, expiresAt });
    }
  }

  async get(id: string): Promise<TaskStatus | null> {
    const s = this.live(this.statuses, id);
    return s ? structuredClone(s) : null;
  }

  /** The state of a task's live status, at once (null without one). */
  stateOf(id: string): TaskState | null {
    return this.live(this.statuses, id)?.state ?? null;
  }

  async getMany(ids: string[]): Promise<(TaskStatus | null)[]> {
    return Promise.all(ids.map((id) => this.get(id)));
  }

  async list(query: TaskStatusQuery = {}): Promise<TaskStatus[]> {
    const all = [...this.statuses.keys()]
      .map((id) => this.live(this.statuses, id))
      .filter(
        (s): s is TaskStatus =>
          s !== null &&
          (query.state === undefined || s.state === query.state) &&
          (query.queue === undefined || s.queue === query.queue) &&
          (query.name === undefined || s.name === query.name) &&
          (query.updatedSince === undefined || s.updatedAt >= query.updatedSince) &&
          (query.updatedUntil === undefined || s.updatedAt <= query.updatedUntil),
      )
      .sort((a, b) => b.updatedAt - a.updatedAt);
    const offset = query.offset ?? 0;
    return structuredClone(all.slice(offset, offset + (query.limit ?? 50)));
  }

  async expire(id: string, ttlMs: number): Promise<void> {
    const item = this.statuses.get(id);
    if (item) item.expiresAt = this.clock.now() + ttlMs;
  }

  async initGroup(group: GroupDescriptor): Promise<void> {
    this.groups.set(group.id, {
      value: {
        id: group.id,
        expected: group.expected,
        results: {},
        completed: 0,
        meta: structuredClone(group.meta ?? {}),
      },
      expiresAt: this.clock.now() + (group.ttlMs ?? this.defaultTtlMs),
    });
  }

  async addGroupResult(
    groupId: string,
    index: number,
    status: TaskStatus,
  ): Promise<GroupStatus | null> {
    checkStatusesStorable([status]);
    const group = this.live(this.groups, groupId);
    if (!group) return null;
    if (!(index in group.results)) group.completed++;
    group.results[index] = asJson(status);
    return structuredClone(group);
  }

  async getGroup(groupId: string): Promise<GroupStatus | null> {
    const group = this.live(this.groups, groupId);
    return group ? structuredClone(group) : null;
  }

  async claimChord(groupId: string, owner: string): Promise<boolean> {
    const group = this.live(this.groups, groupId);
    if (!group) return false;
    group.claimedBy ??= owner;
    return group.claimedBy === owner;
  }

  async setHeartbeat(heartbeat: WorkerHeartbeat, ttlMs: number): Promise<void> {
    this.heartbeats.set(heartbeat.workerId, {
      value: structuredClone(heartbeat),
      expiresAt: this.clock.now() + ttlMs,
    });
  }

  async getHeartbeat(workerId: string): Promise<WorkerHeartbeat | null> {
    const hb = this.live(this.heartbeats, workerId);
    return hb ? structuredClone(hb) : null;
  }

  async listHeartbeats(): Promise<WorkerHeartbeat[]> {
    return [...this.heartbeats.keys()]
      .map((id) => this.live(this.heartbeats, id))
      .filter((hb): hb is WorkerHeartbeat => hb !== null)
      .map((hb) => structuredClone(hb));
  }

  async removeHeartbeat(workerId: string): Promise<void> {
    this.heartbeats.delete(workerId);
  }

  async addMinuteCounts(counts: MinuteCount[]): Promise<void> {
    for (const c of counts) {
      let cells = this.minuteCounts.get(c.minute);
      if (!cells) this.minuteCounts.set(c.minute, (cells = new Map()));
      const key = `${c.series}\n${c.counter}`;
      cells.set(key, (cells.get(key) ?? 0) + c.value);
    }
  }

  async readMinuteCounts(query: MinuteCountQuery): Promise<MinuteCount[]> {
    const out: MinuteCount[] = [];
    const minutes = [...this.minuteCounts.keys()].filter((m) => m >= query.from && m < query.to);
    for (const minute of minutes.sort((a, b) => a - b)) {
      for (const [key, value] of this.minuteCounts.get(minute) ?? []) {
        // Counter names never hold a newline; series (task names) might.
        const cut = key.lastIndexOf("\n");
        const series = key.slice(0, cut);
        const counter = key.slice(cut + 1);
        if (query.series === undefined || series === query.series)
          out.push({ minute, series, counter, value });
      }
    }
    return out;
  }

  async pruneMinuteCounts(before: number): Promise<void> {
    for (const minute of this.minuteCounts.keys())
      if (minute < before) this.minuteCounts.delete(minute);
  }

  async close(): Promise<void> {}
}
