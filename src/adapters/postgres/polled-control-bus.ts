import type { ControlBus } from "../contracts.ts";
import { type PgDatabase, log } from "./database.ts";
import { databaseNow, notifyControl, readControlMessagesSince } from "./sql/control-messages.ts";

type Handler = (message: Record<string, unknown>) => void;

/** How often subscribers read new control messages. */
const POLL_MS = 250;
/**
 * Each poll re-reads messages created this recently (by the database clock) and skips
 * those already handed over, so a message whose insert commits a little after a later
 * one is still seen. The sweep keeps control messages for a minute.
 */
const LOOKBACK_MS = 10_000;

/**
 * Control messages without LISTEN, for a connection through PgBouncer in transaction
 * pooling mode with no direct `listen=` URL: every message is stored in the
 * `control_messages` table (and notified by reference, so listening processes get it
 * too), and subscribers poll the table every 250 ms. Delivery is to subscribers live at
 * the time, in the order messages were stored.
 */
/** A channel's handlers and when (database time, ms) it was first subscribed. */
interface Subscription {
  since: number;
  handlers: Set<Handler>;
}

export class PolledControlBus implements ControlBus {
  private readonly channels = new Map<string, Subscription>();
  /** Ids handed over, with their creation time, to skip them when re-read. */
  private readonly seen = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private polling: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly db: PgDatabase) {}

  async publish(channel: string, message: Record<string, unknown>): Promise<void> {
    await this.db.run("publish control message", (sql) =>
      notifyControl(sql, this.db.schema, this.db.controlChannel, channel, message, true),
    );
  }

  /** Resolves once messages published from now on reach `handler`. */
  async subscribe(channel: string, handler: Handler): Promise<() => Promise<void>> {
    let subscription = this.channels.get(channel);
    if (!subscription) {
      const since = (await this.db.run("subscribe", (sql) => databaseNow(sql))).getTime();
      // Another subscribe to the channel may have finished meanwhile.
      subscription = this.channels.get(channel) ?? { since, handlers: new Set() };
      this.channels.set(channel, subscription);
    }
    const { handlers } = subscription;
    handlers.add(handler);
    this.schedule();
    return async () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.channels.get(channel) === subscription) {
        this.channels.delete(channel);
      }
    };
  }

  private schedule(): void {
    if (this.timer || this.closed || this.channels.size === 0) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.timer = null;
        this.schedule();
      });
    }, POLL_MS);
  }

  private async poll(): Promise<void> {
    if (this.channels.size === 0) return;
    const since = Math.min(...[...this.channels.values()].map((c) => c.since));
    let rows;
    try {
      rows = await this.db.run("read control messages", (sql) =>
        readControlMessagesSince(
          sql,
          this.db.schema,
          [...this.channels.keys()],
          new Date(since),
          LOOKBACK_MS,
        ),
      );
    } catch (error) {
      // Outages are reported once by db.run; the next poll tries again.
      if (!this.db.outage.isDown) log.warn("reading control messages failed:", error);
      return;
    }
    for (const row of rows) {
      if (this.seen.has(row.id) || this.closed) continue;
      this.seen.set(row.id, row.at);
      const subscription = this.channels.get(row.channel);
      // Sent before this channel was subscribed: not for these handlers.
      if (!subscription || row.at < subscription.since) continue;
      const handlers = [...subscription.handlers];
      for (const handler of handlers) {
        try {
          handler(handlers.length > 1 ? structuredClone(row.message) : row.message);
        } catch (error) {
          log.error(`a control handler for "${row.channel}" failed:`, error);
        }
      }
    }
    const newest = Math.max(...this.seen.values());
    for (const [id, at] of this.seen) if (at < newest - 2 * LOOKBACK_MS) this.seen.delete(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
  }
}
