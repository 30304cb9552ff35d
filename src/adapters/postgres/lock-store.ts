import type { LockStore } from "../contracts.ts";
import type { PgDatabase } from "./database.ts";
import { acquireLock, lockOwner, releaseLock, renewLock } from "./sql/locks.ts";

/** Locks as rows keyed by name; one conditional statement per operation, so races are safe. */
export class PostgresLockStore implements LockStore {
  constructor(private readonly db: PgDatabase) {}

  acquire(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.db.run("acquire lock", (sql) =>
      acquireLock(sql, this.db.schema, key, owner, ttlMs),
    );
  }

  renew(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.db.run("renew lock", (sql) => renewLock(sql, this.db.schema, key, owner, ttlMs));
  }

  release(key: string, owner: string): Promise<boolean> {
    return this.db.run("release lock", (sql) => releaseLock(sql, this.db.schema, key, owner));
  }

  ownerOf(key: string): Promise<string | null> {
    return this.db.run("read lock", (sql) => lockOwner(sql, this.db.schema, key));
  }

  async close(): Promise<void> {}
}
