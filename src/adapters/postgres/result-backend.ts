import type {
  GroupDescriptor,
  GroupStatus,
  MinuteCount,
  MinuteCountQuery,
  ResultBackend,
  TaskStatusQuery,
  WorkerHeartbeat,
} from "../contracts.ts";
import type { TaskStatus } from "../../core/states.ts";
import { DEFAULT_RESULT_TTL_MS } from "../memory/result-backend.ts";
import type { PgDatabase } from "./database.ts";
import { addGroupResult } from "./sql/add-group-result.ts";
import { claimChord } from "./sql/claim-chord.ts";
import { expireStatus } from "./sql/expire-status.ts";
import { getGroup } from "./sql/get-group.ts";
import { getStatuses } from "./sql/get-statuses.ts";
import { getHeartbeats, removeHeartbeat, setHeartbeat } from "./sql/heartbeats.ts";
import { initGroup } from "./sql/init-group.ts";
import { listStatuses } from "./sql/list-statuses.ts";
import { addMinuteCounts, pruneMinuteCounts, readMinuteCounts } from "./sql/minute-counts.ts";
import { setStatuses } from "./sql/set-statuses.ts";

/**
 * Task statuses, groups and worker heartbeats in Postgres tables. Expiry is by the
 * database clock, so every process agrees on it; expired rows are invisible at once
 * and deleted later by the connection's sweeper.
 */
export class PostgresResultBackend implements ResultBackend {
  constructor(
    private readonly db: PgDatabase,
    private readonly defaultTtlMs = DEFAULT_RESULT_TTL_MS,
  ) {}

  /** True when this backend stores into `db` (the same pool and schema). */
  usesDatabase(db: PgDatabase): boolean {
    return this.db === db;
  }

  /** How long statuses are kept when a call does not say. */
  get ttlMs(): number {
    return this.defaultTtlMs;
  }

  async set(statuses: TaskStatus[], ttlMs = this.defaultTtlMs): Promise<void> {
    await this.db.run("store results", (sql) => setStatuses(sql, this.db.schema, statuses, ttlMs));
  }

  async get(id: string): Promise<TaskStatus | null> {
    const [status] = await this.getMany([id]);
    return status;
  }

  getMany(ids: string[]): Promise<(TaskStatus | null)[]> {
    return this.db.run("read results", (sql) => getStatuses(sql, this.db.schema, ids));
  }

  list(query: TaskStatusQuery = {}): Promise<TaskStatus[]> {
    return this.db.run("list results", (sql) => listStatuses(sql, this.db.schema, query));
  }

  expire(id: string, ttlMs: number): Promise<void> {
    return this.db.run("expire result", (sql) => expireStatus(sql, this.db.schema, id, ttlMs));
  }

  initGroup(group: GroupDescriptor): Promise<void> {
    return this.db.run("init group", (sql) =>
      initGroup(sql, this.db.schema, group, group.ttlMs ?? this.defaultTtlMs),
    );
  }

  addGroupResult(groupId: string, index: number, status: TaskStatus): Promise<GroupStatus | null> {
    return this.db.run("add group result", (sql) =>
      addGroupResult(sql, this.db.schema, groupId, index, status),
    );
  }

  getGroup(groupId: string): Promise<GroupStatus | null> {
    return this.db.run("read group", (sql) => getGroup(sql, this.db.schema, groupId));
  }

  claimChord(groupId: string, owner: string): Promise<boolean> {
    return this.db.run("claim chord", (sql) => claimChord(sql, this.db.schema, groupId, owner));
  }

  setHeartbeat(heartbeat: WorkerHeartbeat, ttlMs: number): Promise<void> {
    return this.db.run("store heartbeat", (sql) =>
      setHeartbeat(sql, this.db.schema, heartbeat, ttlMs),
    );
  }

  async getHeartbeat(workerId: string): Promise<WorkerHeartbeat | null> {
    const [heartbeat] = await this.db.run("read heartbeat", (sql) =>
      getHeartbeats(sql, this.db.schema, workerId),
    );
    return heartbeat ?? null;
  }

  listHeartbeats(): Promise<WorkerHeartbeat[]> {
    return this.db.run("list heartbeats", (sql) => getHeartbeats(sql, this.db.schema));
  }

  async removeHeartbeat(workerId: string): Promise<void> {
    await this.db.run("remove heartbeat", (sql) => removeHeartbeat(sql, this.db.schema, workerId));
  }

  async addMinuteCounts(counts: MinuteCount[]): Promise<void> {
    await this.db.run("add minute counts", (sql) => addMinuteCounts(sql, this.db.schema, counts));
  }

  readMinuteCounts(query: MinuteCountQuery): Promise<MinuteCount[]> {
    return this.db.run("read minute counts", (sql) => readMinuteCounts(sql, this.db.schema, query));
  }

  async pruneMinuteCounts(before: number): Promise<void> {
    await this.db.run("prune minute counts", (sql) =>
      pruneMinuteCounts(sql, this.db.schema, before),
    );
  }

  async close(): Promise<void> {}
}
