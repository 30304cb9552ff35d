import type { ControlBus } from "../contracts.ts";
import { log, type PgDatabase } from "./database.ts";
import type { NotificationListener } from "./listener.ts";
import {
  type ControlPayload,
  notifyControl,
  notifyControlInline,
  readControlMessage,
} from "./sql/control-messages.ts";

type Handler = (message: Record<string, unknown>) => void;

/**
 * Control messages on LISTEN/NOTIFY: one Postgres channel per schema carries every
 * control channel, tagged with its name. Delivery is to subscribers live at the time
 * (as with any pub/sub); messages are handed over in the order they were committed.
 */
export class PostgresControlBus implements ControlBus {
  private readonly handlers = new Map<string, Set<Handler>>();
  private listening: Promise<() => Promise<void>> | null = null;
  /** Notifications are handled one after another so stored (large) ones keep their place. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  /**
   * With `storeEvery` (behind PgBouncer), every message is also stored, so processes
   * polling for control messages (PolledControlBus) see it too.
   */
  constructor(
    private readonly db: PgDatabase,
    private readonly listener: NotificationListener,
    private readonly storeEvery = false,
  ) {}

  async publish(channel: string, message: Record<string, unknown>): Promise<void> {
    await this.db.run("publish control message", (sql) =>
      notifyControl(sql, this.db.schema, this.db.controlChannel, channel, message, this.storeEvery),
    );
  }

  /**
   * Publishes messages on one channel in order, in one statement when each fits a NOTIFY
   * payload (and none has to be stored), else one after the other.
   */
  async publishMany(channel: string, messages: Record<string, unknown>[]): Promise<void> {
    if (messages.length === 0) return;
    const sent =
      !this.storeEvery &&
      messages.length > 1 &&
      (await this.db.run("publish control messages", (sql) =>
        notifyControlInline(sql, this.db.controlChannel, channel, messages),
      ));
    if (sent) return;
    for (const message of messages) await this.publish(channel, message);
  }

  async subscribe(channel: string, handler: Handler): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    this.listening ??= this.listener.listen(this.db.controlChannel, {
      onMessage: (payload) => {
        this.queue = this.queue.then(() => this.receive(payload));
      },
    });
    try {
      await this.listening;
    } catch (error) {
      this.listening = null;
      set.delete(handler);
      throw this.db.translate("subscribe", error);
    }
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(channel) === set) this.handlers.delete(channel);
    };
  }

  private async receive(payload: string): Promise<void> {
    let parsed: ControlPayload;
    try {
      parsed = JSON.parse(payload);
    } catch {
      log.warn(`ignored a control notification that is not JSON: ${payload.slice(0, 200)}`);
      return;
    }
    const handlers = this.handlers.get(parsed.channel);
    if (!handlers || handlers.size === 0) return;
    let message: Record<string, unknown> | null;
    if ("ref" in parsed) {
      try {
        message = await this.db.run("read control message", (sql) =>
          readControlMessage(sql, this.db.schema, parsed.ref),
        );
      } catch (error) {
        log.warn(`could not read control message ${parsed.ref}:`, error);
        return;
      }
      if (!message) return;
    } else {
      message = parsed.message;
    }
    const many = handlers.size > 1;
    for (const handler of [...handlers]) {
      try {
        handler(many ? structuredClone(message) : message);
      } catch (error) {
        log.error(`a control handler for "${parsed.channel}" failed:`, error);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    const listening = this.listening;
    this.listening = null;
    const stop = await listening?.catch(() => null);
    await stop?.();
  }
}
