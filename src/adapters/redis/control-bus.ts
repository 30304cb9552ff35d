/**
 * Control messages over Redis pub/sub. Publishing uses the shared command connection;
 * subscriptions use one dedicated subscriber connection per bus, opened on the first
 * subscribe. ioredis re-subscribes by itself after a reconnect.
 */

import { StemError } from "../../core/errors.ts";
import { logger } from "../../core/logger.ts";
import type { ControlBus } from "../contracts.ts";
import { publisherOf, type RedisClient } from "./client.ts";
import type { RedisKeys } from "./keys.ts";

type Handler = (message: Record<string, unknown>) => void;

export class RedisControlBus implements ControlBus {
  private subscriber: RedisClient | undefined;
  /** Handlers by Redis channel key. */
  private readonly handlers = new Map<string, Set<Handler>>();
  /** Subscribe/unsubscribe calls run one at a time so a channel's state never races. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** `openSubscriber` makes the dedicated subscriber connection. */
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly openSubscriber: () => RedisClient,
  ) {}

  async publish(channel: string, message: Record<string, unknown>): Promise<void> {
    await publisherOf(this.client).publish(this.keys.control(channel), JSON.stringify(message));
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private connection(): RedisClient {
    if (!this.subscriber) {
      const sub = this.openSubscriber();
      sub.on("message", (key: string, text: string) => this.dispatch(key, text));
      this.subscriber = sub;
    }
    return this.subscriber;
  }

  private dispatch(key: string, text: string): void {
    const handlers = this.handlers.get(key);
    if (!handlers || handlers.size === 0) return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      message = undefined;
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      logger.warn(`control channel ${key}: ignored a message that is not a JSON object`);
      return;
    }
    for (const handler of handlers) {
      try {
        handler(structuredClone(message as Record<string, unknown>));
      } catch (error) {
        logger.warn(`control channel ${key}: a handler failed: ${(error as Error).message}`);
      }
    }
  }

  async subscribe(channel: string, handler: Handler): Promise<() => Promise<void>> {
    const key = this.keys.control(channel);
    await this.serial(async () => {
      if (this.closed) throw new StemError("closed", "the control bus is closed");
      let set = this.handlers.get(key);
      if (!set) {
        set = new Set();
        this.handlers.set(key, set);
      }
      set.add(handler);
      if (set.size > 1) return;
      try {
        // Resolves once Redis confirms the subscription.
        await this.connection().subscribe(key);
      } catch (error) {
        set.delete(handler);
        if (set.size === 0) this.handlers.delete(key);
        throw error;
      }
    });
    let active = true;
    return () =>
      this.serial(async () => {
        if (!active) return;
        active = false;
        const set = this.handlers.get(key);
        if (!set?.delete(handler) || set.size > 0) return;
        this.handlers.delete(key);
        if (!this.closed && this.subscriber) await this.subscriber.unsubscribe(key);
      });
  }

  /** Drops every subscription and closes the subscriber connection. */
  async close(): Promise<void> {
    await this.serial(async () => {
      this.closed = true;
      this.handlers.clear();
      const sub = this.subscriber;
      this.subscriber = undefined;
      if (sub) await sub.quit().catch(() => sub.disconnect());
    });
  }
}
