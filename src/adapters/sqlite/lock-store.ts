/**
 * Leases with an owner token in a SQLite file. Each operation is one statement, atomic
 * on its own: an acquire takes a free or expired lock in a single conditional upsert.
 */
import type { LockStore } from "../contracts.ts";
import type { SqliteDatabase } from "./database.ts";

const ACQUIRE = `
INSERT INTO stem_locks (key, owner, expires_at) VALUES ($key, $owner, $expiresAt)
ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE stem_locks.expires_at <= $now`;

const RENEW = `
UPDATE stem_locks SET expires_at = $expiresAt
WHERE key = $key AND owner = $owner AND expires_at > $now`;

const RELEASE = "DELETE FROM stem_locks WHERE key = $key AND owner = $owner AND expires_at > $now";

const OWNER = "SELECT owner FROM stem_locks WHERE key = ? AND expires_at > ?";

type LockParams = [{ key: string; owner: string; expiresAt: number; now: number }];

/** Owner-token leases shared by every process using the file (Beat HA, unique tasks). */
export class SqliteLockStore implements LockStore {
  constructor(private readonly db: SqliteDatabase) {}

  async acquire(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.change(ACQUIRE, key, owner, ttlMs);
  }

  async renew(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.change(RENEW, key, owner, ttlMs);
  }

  async release(key: string, owner: string): Promise<boolean> {
    const now = this.db.now();
    const release = this.db.statement<unknown, [{ key: string; owner: string; now: number }]>(
      RELEASE,
    );
    return this.db.single(() => release.run({ key, owner, now }).changes > 0, true);
  }

  async ownerOf(key: string): Promise<string | null> {
    const select = this.db.statement<{ owner: string }, [string, number]>(OWNER);
    return this.db.single(() => select.get(key, this.db.now())?.owner ?? null);
  }

  private change(sql: string, key: string, owner: string, ttlMs: number): boolean {
    const now = this.db.now();
    const statement = this.db.statement<unknown, LockParams>(sql);
    return this.db.single(
      () => statement.run({ key, owner, expiresAt: now + ttlMs, now }).changes > 0,
      true,
    );
  }

  /** The connection owns the database; nothing to release here. */
  async close(): Promise<void> {}
}
