/**
 * Control messages through a SQLite table. Each subscriber reads rows on its channel
 * newer than the last it saw, starting from the newest row when it subscribed: at once
 * after a publish on the same connection or any process's commit to the file (a watcher
 * kept while anyone subscribes), and every {@link WATCHED_POLL_MS} ms as a safety net —
 * every {@link CONTROL_POLL_MS} ms where the file cannot be watched. Rows are pruned after
 * {@link CONTROL_RETENTION_MS}.
 */
import type { FSWatcher } from "node:fs";
import { toError } from "../../core/errors.ts";
import type { ControlBus } from "../contracts.ts";
import type { SqliteDatabase } from "./database.ts";
import { WATCHED_POLL_MS, watchWrites } from "./write-watcher.ts";

/** How often a subscriber looks for messages from other processes without a file watcher. */
export const CONTROL_POLL_MS = 50;
/** How long control messages are kept for slow pollers before pruning deletes them. */
export const CONTROL_RETENTION_MS = 60_000;
/** Rows read per poll; a full batch polls again at once. */
const BATCH = 100;

const INSERT = "INSERT INTO stem_control_messages (channel, message, created_at) VALUES (?, ?, ?)";
const NEWEST_ID = "SELECT coalesce(max(id), 0) AS id FROM stem_control_messages";
const SELECT_AFTER = `
SELECT id, message FROM stem_control_messages
WHERE channel = ? AND id > ? ORDER BY id LIMIT ${BATCH}`;

type Handler = (message: Record<string, unknown>) => void;

/** Fan-out control messages between processes sharing one SQLite file. */
export class SqliteControlBus implements ControlBus {
  private readonly subscriptions = new Set<Subscription>();
  /** Wakes subscribers when any process commits to the file; kept while anyone subscribes. */
  private writes: FSWatcher | null = null;

  constructor(private readonly db: SqliteDatabase) {}

  /** How long a subscriber may wait between reads. */
  private pollMs(): number {
    return this.writes ? WATCHED_POLL_MS : CONTROL_POLL_MS;
  }

  private watch(): void {
    if (this.writes || this.subscriptions.size === 0) return;
    this.writes = watchWrites(
      this.db.target,
      () => {
        for (const subscription of this.subscriptions) subscription.wake();
      },
      () => {
        this.writes = null;
      },
    );
  }

  private unwatch(): void {
    if (this.subscriptions.size > 0) return;
    this.writes?.close();
    this.writes = null;
  }

  async publish(channel: string, message: Record<string, unknown>): Promise<void> {
    const insert = this.db.statement<unknown, [string, string, number]>(INSERT);
    this.db.single(() => insert.run(channel, JSON.stringify(message), this.db.now()), true);
    for (const subscription of this.subscriptions) {
      if (subscription.channel === channel) subscription.pollSoon(0);
    }
  }

  async subscribe(channel: string, handler: Handler): Promise<() => Promise<void>> {
    const newest = this.db.statement<{ id: number }>(NEWEST_ID);
    const lastId = this.db.single(() => newest.get()?.id ?? 0);
    const subscription = new Subscription(
      this.db,
      channel,
      handler,
      lastId,
      () => this.pollMs(),
      () => {
        this.subscriptions.delete(subscription);
        this.unwatch();
      },
    );
    this.subscriptions.add(subscription);
    this.watch();
    // Read once soon: a message sent before the watcher started raised no event for it.
    subscription.pollSoon(CONTROL_POLL_MS);
    return async () => subscription.stop();
  }

  async close(): Promise<void> {
    for (const subscription of [...this.subscriptions]) subscription.stop();
  }
}

/** One subscriber's polling loop. */
class Subscription {
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the scheduled read runs, and when the last one ran (epoch ms). */
  private dueAt = Number.POSITIVE_INFINITY;
  private lastPoll = 0;
  private stopped = false;
  private warned = false;

  constructor(
    private readonly db: SqliteDatabase,
    readonly channel: string,
    private readonly handler: Handler,
    private lastId: number,
    private readonly pollMs: () => number,
    private readonly onStop: () => void,
  ) {}

  /**
   * Another process wrote to the file: read within {@link CONTROL_POLL_MS} ms of the last
   * read, and no more often, so a busy file (a draining worker commits hundreds of times a
   * second) costs no more reads than the old 50 ms poll did.
   */
  wake(): void {
    const now = Date.now();
    const at = Math.max(now, this.lastPoll + CONTROL_POLL_MS);
    if (this.dueAt <= at) return;
    this.pollSoon(at - now);
  }

  pollSoon(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.dueAt = Date.now() + ms;
    this.timer = setTimeout(() => this.poll(), ms);
    // A forgotten subscription must not keep a CLI process alive.
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.onStop();
  }

  private poll(): void {
    this.lastPoll = Date.now();
    this.dueAt = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    if (this.db.isClosed) return this.stop();
    let rows: { id: number; message: string }[];
    try {
      const select = this.db.statement<{ id: number; message: string }, [string, number]>(
        SELECT_AFTER,
      );
      rows = this.db.single(() => select.all(this.channel, this.lastId));
    } catch (error) {
      // Usually a lock held past the busy timeout; try again at the next poll.
      if (!this.warned) {
        this.warned = true;
        process.emitWarning(
          `control channel "${this.channel}" on SQLite database ${this.db.location}: ${toError(error).message}; retrying`,
        );
      }
      return this.pollSoon(CONTROL_POLL_MS);
    }
    this.warned = false;
    for (const row of rows) {
      this.lastId = row.id;
      const message = JSON.parse(row.message) as Record<string, unknown>;
      queueMicrotask(() => {
        if (!this.stopped) this.handler(message);
      });
    }
    this.pollSoon(rows.length === BATCH ? 0 : this.pollMs());
  }
}
