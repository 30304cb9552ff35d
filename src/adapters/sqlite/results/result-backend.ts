import type { TaskStatus } from "../../../core/states.ts";
import type {
  GroupDescriptor,
  GroupStatus,
  MinuteCount,
  MinuteCountQuery,
  ResultBackend,
  TaskStatusQuery,
  WorkerHeartbeat,
} from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";
import { addGroupResult, claimChord, getGroup, initGroup } from "./groups.ts";
import { getHeartbeat, listHeartbeats, removeHeartbeat, setHeartbeat } from "./heartbeats.ts";
import { addMinuteCounts, pruneMinuteCounts, readMinuteCounts } from "./minute-counts.ts";
import { expireStatus, getStatuses, listStatuses, setStatuses } from "./statuses.ts";

/** Results expire after a day unless told otherwise, as in Celery. */
export const DEFAULT_RESULT_TTL_MS = 86_400_000;

/**
 * A result backend on a SQLite file. Every row carries its expiry; expired rows read as
 * missing and are deleted by the connection's periodic pruning.
 */
export class SqliteResultBackend implements ResultBackend {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly defaultTtlMs = DEFAULT_RESULT_TTL_MS,
  ) {}

  /** Whether this backend stores into `db` (the broker then writes statuses with its jobs). */
  usesDatabase(db: SqliteDatabase): boolean {
    return this.db === db;
  }

  /** When a status stored now with the default TTL expires. */
  defaultExpiry(): number {
    return this.db.now() + this.defaultTtlMs;
  }

  async set(statuses: TaskStatus[], ttlMs = this.defaultTtlMs): Promise<void> {
    setStatuses(this.db, statuses, this.db.now() + ttlMs);
  }

  async get(id: string): Promise<TaskStatus | null> {
    return getStatuses(this.db, [id], this.db.now())[0];
  }

  async getMany(ids: string[]): Promise<(TaskStatus | null)[]> {
    return getStatuses(this.db, ids, this.db.now());
  }

  async list(query: TaskStatusQuery = {}): Promise<TaskStatus[]> {
    return listStatuses(this.db, query, this.db.now());
  }

  async expire(id: string, ttlMs: number): Promise<void> {
    const now = this.db.now();
    expireStatus(this.db, id, now + ttlMs, now);
  }

  async initGroup(group: GroupDescriptor): Promise<void> {
    initGroup(this.db, group, this.db.now() + (group.ttlMs ?? this.defaultTtlMs));
  }

  async addGroupResult(
    groupId: string,
    index: number,
    status: TaskStatus,
  ): Promise<GroupStatus | null> {
    return addGroupResult(this.db, groupId, index, status, this.db.now());
  }

  async getGroup(groupId: string): Promise<GroupStatus | null> {
    return getGroup(this.db, groupId, this.db.now());
  }

  async claimChord(groupId: string, owner: string): Promise<boolean> {
    return claimChord(this.db, groupId, owner, this.db.now());
  }

  async setHeartbeat(heartbeat: WorkerHeartbeat, ttlMs: number): Promise<void> {
    setHeartbeat(this.db, heartbeat, this.db.now() + ttlMs);
  }

  async getHeartbeat(workerId: string): Promise<WorkerHeartbeat | null> {
    return getHeartbeat(this.db, workerId, this.db.now());
  }

  async listHeartbeats(): Promise<WorkerHeartbeat[]> {
    return listHeartbeats(this.db, this.db.now());
  }

  async removeHeartbeat(workerId: string): Promise<void> {
    removeHeartbeat(this.db, workerId);
  }

  async addMinuteCounts(counts: MinuteCount[]): Promise<void> {
    addMinuteCounts(this.db, counts);
  }

  async readMinuteCounts(query: MinuteCountQuery): Promise<MinuteCount[]> {
    return readMinuteCounts(this.db, query);
  }

  async pruneMinuteCounts(before: number): Promise<void> {
    pruneMinuteCounts(this.db, before);
  }

  /** The connection owns the database; nothing to release here. */
  async close(): Promise<void> {}
}
