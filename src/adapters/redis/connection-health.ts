/**
 * Watches the connections of one StoreConnection and logs an outage once: a warning when
 * the first connection drops or fails, an info line when one is ready again. ioredis
 * reports every failed reconnect attempt; only the first of an outage is logged.
 */

import { logger } from "../../core/logger.ts";
import type { RedisClient } from "./client.ts";

export class ConnectionHealth {
  private down = false;
  private closing = false;

  constructor(private readonly url: string) {}

  /** Attaches listeners to a connection; `role` names it in the log. */
  watch(client: RedisClient, role: string): void {
    client.on("error", (error: Error) => this.lost(role, error.message));
    client.on("reconnecting", () => this.lost(role, "connection closed"));
    client.on("ready", () => this.restored());
  }

  /** Stops logging: the owner is closing its connections on purpose. */
  stop(): void {
    this.closing = true;
  }

  private lost(role: string, reason: string): void {
    if (this.closing || this.down) return;
    this.down = true;
    logger.warn(`redis ${this.url}: ${role} connection lost (${reason}); reconnecting`);
  }

  private restored(): void {
    if (this.closing || !this.down) return;
    this.down = false;
    logger.info(`redis ${this.url}: connection restored`);
  }
}
