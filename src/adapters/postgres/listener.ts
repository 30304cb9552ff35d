/**
 * LISTEN on a dedicated connection that survives drops. postgres.js reconnects per
 * query but does not re-issue LISTEN reliably after a failed reconnect, so this keeps
 * its own list of channels and, whenever the connection closes, re-LISTENs them with
 * backoff until it succeeds. Notifications sent while the connection was down are lost,
 * so every handler gets `onResync` once listening is restored, to re-check the store.
 */
import postgres from "postgres";
import { type OutageLog, isConnectionError, isEndedError, log } from "./database.ts";

/** What a LISTEN subscriber is told. */
export interface NotificationHandler {
  onMessage(payload: string): void;
  /** Listening resumed after a drop: notifications may have been missed. */
  onResync?(): void;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

function quoted(channel: string): string {
  return `"${channel.replace(/"/g, '""')}"`;
}

export class NotificationListener {
  private readonly client: postgres.Sql;
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  /** Channels LISTENed on the current connection. */
  private readonly active = new Set<string>();
  private restoring: Promise<void> | null = null;
  private dropped = false;
  private closed = false;

  constructor(
    url: string,
    options: postgres.Options<{}>,
    private readonly outage: OutageLog,
  ) {
    // `onnotify` is a postgres.js option its type declarations leave out.
    const listenerOptions = {
      ...options,
      max: 1,
      max_lifetime: null,
      onnotify: (channel: string, payload: string) => this.dispatch(channel, payload),
      onclose: () => this.connectionClosed(),
    };
    this.client = postgres(url, listenerOptions as postgres.Options<{}>);
  }

  /** True while every subscribed channel is LISTENed on a live connection. */
  get healthy(): boolean {
    return !this.restoring && !this.dropped;
  }

  /**
   * Subscribes `handler` to `channel`; resolves once the LISTEN is active (retrying
   * through an outage). Returns a function that unsubscribes.
   */
  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    await this.ensureListening();
    return async () => {
      const current = this.handlers.get(channel);
      if (!current?.delete(handler) || current.size > 0) return;
      this.handlers.delete(channel);
      if (!this.active.delete(channel) || this.closed) return;
      try {
        await this.client.unsafe(`UNLISTEN ${quoted(channel)}`);
      } catch (error) {
        // A lost connection has stopped listening anyway.
        if (!isConnectionError(error) && !isEndedError(error)) throw error;
      }
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    await this.client.end({ timeout: 1 });
  }

  private dispatch(channel: string, payload: string): void {
    for (const handler of this.handlers.get(channel) ?? []) {
      try {
        handler.onMessage(payload);
      } catch (error) {
        log.error(`a notification handler for "${channel}" failed:`, error);
      }
    }
  }

  private connectionClosed(): void {
    if (this.closed) return;
    this.active.clear();
    if (this.handlers.size === 0) return;
    this.dropped = true;
    this.ensureListening().catch((error) => log.error("could not resume LISTEN:", error));
  }

  private ensureListening(): Promise<void> {
    if (this.allActive()) return Promise.resolve();
    this.restoring ??= this.restore().finally(() => {
      this.restoring = null;
    });
    return this.restoring;
  }

  private allActive(): boolean {
    for (const channel of this.handlers.keys()) if (!this.active.has(channel)) return false;
    return true;
  }

  /** LISTENs every channel not yet active, until all are (the connection may drop mid-way). */
  private async restore(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!this.closed && !this.allActive()) {
      try {
        for (const channel of [...this.handlers.keys()]) {
          if (this.active.has(channel)) continue;
          await this.client.unsafe(`LISTEN ${quoted(channel)}`);
          this.active.add(channel);
        }
      } catch (error) {
        if (this.closed) return;
        if (!isConnectionError(error)) throw error;
        this.outage.failed("LISTEN", error);
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
    if (this.closed || !this.dropped) return;
    this.dropped = false;
    this.outage.recovered();
    for (const set of this.handlers.values()) {
      for (const handler of set) handler.onResync?.();
    }
  }
}
