/**
 * Global concurrency slots in a SQLite file, shared by every process using it. An acquire
 * drops the key's expired slots, counts the live ones and takes one inside a single
 * BEGIN IMMEDIATE transaction, so two processes cannot both take the last slot.
 */
import type { ConcurrencySlots, SlotUsage } from "../contracts.ts";
import { checkSlotLease, checkSlotLimit } from "../slot-arguments.ts";
import type { SqliteDatabase } from "./database.ts";

const SET_LIMIT = `
INSERT INTO stem_concurrency_limits (key, max_slots) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET max_slots = excluded.max_slots`;

const DROP_EXPIRED = "DELETE FROM stem_concurrency_slots WHERE key = ? AND expires_at <= ?";

const OTHERS = "SELECT count(*) AS n FROM stem_concurrency_slots WHERE key = ? AND holder <> ?";

const TAKE = `
INSERT INTO stem_concurrency_slots (key, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (key, holder) DO UPDATE SET expires_at = excluded.expires_at`;

const RENEW = `
UPDATE stem_concurrency_slots SET expires_at = ?
WHERE key = ? AND holder = ? AND expires_at > ?`;

const RELEASE =
  "DELETE FROM stem_concurrency_slots WHERE key = ? AND holder = ? RETURNING expires_at";

const LIMITS = "SELECT key, max_slots AS maxSlots FROM stem_concurrency_limits ORDER BY key";

const LIMIT_OF = "SELECT key, max_slots AS maxSlots FROM stem_concurrency_limits WHERE key = ?";

const HOLDERS = "SELECT key, holder FROM stem_concurrency_slots WHERE expires_at > ?";

const HOLDERS_OF =
  "SELECT key, holder FROM stem_concurrency_slots WHERE key = ? AND expires_at > ?";

type LimitRow = { key: string; maxSlots: number };
type HolderRow = { key: string; holder: string };

/** Counting semaphores with leased slots, shared by every process using the file. */
export class SqliteConcurrencySlots implements ConcurrencySlots {
  constructor(private readonly db: SqliteDatabase) {}

  async acquire(key: string, holder: string, limit: number, leaseMs: number): Promise<boolean> {
    checkSlotLimit(key, limit);
    checkSlotLease(key, leaseMs);
    const db = this.db;
    return db.write(() => {
      const now = db.now();
      db.statement<unknown, [string, number]>(SET_LIMIT).run(key, limit);
      db.statement<unknown, [string, number]>(DROP_EXPIRED).run(key, now);
      const others = db.statement<{ n: number }, [string, string]>(OTHERS).get(key, holder)!.n;
      if (others >= limit) return false;
      db.statement<unknown, [string, string, number]>(TAKE).run(key, holder, now + leaseMs);
      return true;
    });
  }

  async renew(key: string, holder: string, leaseMs: number): Promise<boolean> {
    checkSlotLease(key, leaseMs);
    const now = this.db.now();
    const renew = this.db.statement<unknown, [number, string, string, number]>(RENEW);
    return this.db.single(() => renew.run(now + leaseMs, key, holder, now).changes > 0, true);
  }

  async release(key: string, holder: string): Promise<boolean> {
    const now = this.db.now();
    const release = this.db.statement<{ expires_at: number }, [string, string]>(RELEASE);
    return this.db.single(() => release.all(key, holder).some((r) => r.expires_at > now), true);
  }

  async setLimit(key: string, limit: number): Promise<void> {
    checkSlotLimit(key, limit);
    const set = this.db.statement<unknown, [string, number]>(SET_LIMIT);
    this.db.single(() => set.run(key, limit), true);
  }

  async usage(key: string): Promise<SlotUsage | null> {
    const db = this.db;
    const [usage] = db.read(() =>
      usages(
        db.statement<LimitRow, [string]>(LIMIT_OF).all(key),
        db.statement<HolderRow, [string, number]>(HOLDERS_OF).all(key, db.now()),
      ),
    );
    return usage ?? null;
  }

  async list(): Promise<SlotUsage[]> {
    const db = this.db;
    return db.read(() =>
      usages(
        db.statement<LimitRow, []>(LIMITS).all(),
        db.statement<HolderRow, [number]>(HOLDERS).all(db.now()),
      ),
    );
  }

  /** The connection owns the database; nothing to release here. */
  async close(): Promise<void> {}
}

/** Each limited key with its live holders, in the order of `limits`. */
function usages(limits: LimitRow[], live: HolderRow[]): SlotUsage[] {
  const holders = new Map<string, string[]>();
  for (const { key, holder } of live) {
    const list = holders.get(key) ?? [];
    list.push(holder);
    holders.set(key, list);
  }
  return limits.map(({ key, maxSlots }) => {
    const of = (holders.get(key) ?? []).sort();
    return { key, limit: maxSlots, used: of.length, holders: of };
  });
}
