import type { ConcurrencySlots, SlotUsage } from "../contracts.ts";
import { checkSlotLease, checkSlotLimit } from "../slot-arguments.ts";
import type { PgDatabase } from "./database.ts";
import {
  acquireSlot,
  releaseSlot,
  renewSlot,
  setSlotLimit,
  slotUsages,
} from "./sql/concurrency-slots.ts";

/** Global concurrency slots as leased rows; acquires of one key serialize on its limit row. */
export class PostgresConcurrencySlots implements ConcurrencySlots {
  constructor(private readonly db: PgDatabase) {}

  async acquire(key: string, holder: string, limit: number, leaseMs: number): Promise<boolean> {
    checkSlotLimit(key, limit);
    checkSlotLease(key, leaseMs);
    return this.db.run("acquire a concurrency slot", (sql) =>
      acquireSlot(sql, this.db.schema, key, holder, limit, leaseMs),
    );
  }

  async renew(key: string, holder: string, leaseMs: number): Promise<boolean> {
    checkSlotLease(key, leaseMs);
    return this.db.run("renew a concurrency slot", (sql) =>
      renewSlot(sql, this.db.schema, key, holder, leaseMs),
    );
  }

  release(key: string, holder: string): Promise<boolean> {
    return this.db.run("release a concurrency slot", (sql) =>
      releaseSlot(sql, this.db.schema, key, holder),
    );
  }

  async setLimit(key: string, limit: number): Promise<void> {
    checkSlotLimit(key, limit);
    return this.db.run("set a concurrency limit", (sql) =>
      setSlotLimit(sql, this.db.schema, key, limit),
    );
  }

  async usage(key: string): Promise<SlotUsage | null> {
    const [usage] = await this.db.run("read a concurrency limit", (sql) =>
      slotUsages(sql, this.db.schema, key),
    );
    return usage ?? null;
  }

  list(): Promise<SlotUsage[]> {
    return this.db.run("list concurrency limits", (sql) => slotUsages(sql, this.db.schema));
  }

  async close(): Promise<void> {}
}
