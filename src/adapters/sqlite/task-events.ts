/**
 * Task events through a small capped SQLite table: each published batch is one row, and
 * only the newest {@link EVENTS_KEPT} rows are kept (the insert trims the rest). While
 * anyone subscribes, one reader per connection looks for new rows whenever the database
 * file is written (a write watcher) or this connection publishes, and every
 * {@link WATCHED_POLL_MS} ms as a safety net ({@link EVENTS_POLL_MS} ms without a
 * watcher). A reader that falls more than the cap behind misses events: they are best
 * effort.
 */
import type { FSWatcher } from "node:fs";
import { StemError, toError } from "../../core/errors.ts";
import { logger } from "../../core/logger.ts";
import type { TaskEvent } from "../../events/types.ts";
import type { TaskEventBus } from "../contracts.ts";
import type { SqliteDatabase } from "./database.ts";
import { Wakeup } from "./wakeup.ts";
import { WATCHED_POLL_MS, watchWrites } from "./write-watcher.ts";

/** Poll while subscribed where the file cannot be watched (else every WATCHED_POLL_MS). */
export const EVENTS_POLL_MS = 250;
/** Batches (rows) kept for readers in other processes. */
export const EVENTS_KEPT = 1000;
/** Rows read at a time; a full read reads again at once. */
const BATCH = 200;

const INSERT = "INSERT INTO stem_task_events (events, created_at) VALUES (?, ?)";
const TRIM = "DELETE FROM stem_task_events WHERE id <= ?";
const NEWEST_ID = "SELECT coalesce(max(id), 0) AS id FROM stem_task_events";
const SELECT_AFTER = `SELECT id, events FROM stem_task_events WHERE id > ? ORDER BY id LIMIT ${BATCH}`;

type Handler = (events: TaskEvent[]) => void;

export class SqliteTaskEvents implements TaskEventBus {
  private readonly handlers = new Set<Handler>();
  private readonly wakeup = new Wakeup();
  private reading: Promise<void> | null = null;
  private lastId = 0;
  private closed = false;
  private warned = false;

  constructor(private readonly db: SqliteDatabase) {}

  async publish(events: TaskEvent[]): Promise<void> {
    if (events.length === 0) return;
    const insert = this.db.statement<unknown, [string, number]>(INSERT);
    const trim = this.db.statement<unknown, [number]>(TRIM);
    this.db.write(() => {
      const { lastInsertRowid } = insert.run(JSON.stringify(events), this.db.now());
      trim.run(Number(lastInsertRowid) - EVENTS_KEPT);
    });
    this.wakeup.wake();
  }

  async subscribe(handler: Handler): Promise<() => Promise<void>> {
    if (this.closed) throw new StemError("closed", "the task event bus is closed");
    if (!this.reading) {
      const newest = this.db.statement<{ id: number }>(NEWEST_ID);
      this.lastId = this.db.single(() => newest.get()?.id ?? 0);
      this.reading = this.read().finally(() => {
        this.reading = null;
      });
    }
    this.handlers.add(handler);
    return async () => {
      if (this.handlers.delete(handler) && this.handlers.size === 0) this.wakeup.wake();
    };
  }

  /** Reads new rows until nobody subscribes. */
  private async read(): Promise<void> {
    let watcher: FSWatcher | null = watchWrites(
      this.db.target,
      () => this.wakeup.wake(),
      () => {
        watcher = null;
      },
    );
    try {
      // Checked after the first wait too: the first subscriber is added after this starts.
      do {
        const mark = this.wakeup.mark;
        const full = this.readNew();
        if (!full)
          await this.wakeup.wait(watcher ? WATCHED_POLL_MS : EVENTS_POLL_MS, undefined, mark);
      } while (this.handlers.size > 0 && !this.closed && !this.db.isClosed);
    } finally {
      watcher?.close();
    }
  }

  /** Hands new rows to the handlers; true when a whole batch was read (more may wait). */
  private readNew(): boolean {
    let rows: { id: number; events: string }[];
    try {
      const select = this.db.statement<{ id: number; events: string }, [number]>(SELECT_AFTER);
      rows = this.db.single(() => select.all(this.lastId));
    } catch (error) {
      // Usually a lock held past the busy timeout; the next wake tries again.
      if (!this.warned) {
        this.warned = true;
        logger.warn(`task events on ${this.db.location}: ${toError(error).message}; retrying`);
      }
      return false;
    }
    this.warned = false;
    for (const row of rows) {
      this.lastId = row.id;
      const events = JSON.parse(row.events) as TaskEvent[];
      for (const handler of [...this.handlers]) {
        try {
          handler(events);
        } catch (error) {
          logger.warn(`a task event handler failed: ${toError(error).message}`);
        }
      }
    }
    return rows.length === BATCH;
  }

  /** Ends the reader; the connection closes the database. */
  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    this.wakeup.wake();
    await this.reading;
  }
}
