/**
 * Task events on Redis: the control bus's pub/sub, plus a presence key so that publishers
 * with nobody to tell skip events altogether. A subscriber sets the key (with a ttl it
 * keeps renewing) before its subscription goes live; a publisher checks it after storing
 * the writes its events describe. So a subscription live before a write always makes
 * that write's events go out, and with no subscriber a worker spends nothing on events.
 * The key outlives the last subscriber by up to its ttl, during which events still go out.
 */
import { toError } from "../../core/errors.ts";
import { logger } from "../../core/logger.ts";
import { ControlBusTaskEvents } from "../../events/control-bus-events.ts";
import type { TaskEvent } from "../../events/types.ts";
import type { TaskEventBus } from "../contracts.ts";
import type { RedisClient } from "./client.ts";
import type { RedisControlBus } from "./control-bus.ts";

/** How long the presence key lives without renewal; subscribers renew it 3 times as often. */
export const LISTENER_TTL_MS = 15_000;

export class RedisTaskEvents implements TaskEventBus {
  private readonly events: ControlBusTaskEvents;
  /** Renewal timers of live subscriptions, stopped by unsubscribing or by close(). */
  private readonly renewals = new Set<ReturnType<typeof setInterval>>();

  constructor(
    private readonly client: RedisClient,
    bus: RedisControlBus,
    /** The presence key. */
    private readonly listenersKey: string,
    /** How long the key lives without renewal (tests shorten it). */
    private readonly ttlMs = LISTENER_TTL_MS,
  ) {
    this.events = new ControlBusTaskEvents(bus);
  }

  publish(events: TaskEvent[]): Promise<void> {
    return this.events.publish(events);
  }

  async anyoneListening(): Promise<boolean> {
    return (await this.client.exists(this.listenersKey)) === 1;
  }

  async subscribe(handler: (events: TaskEvent[]) => void): Promise<() => Promise<void>> {
    const present = () => this.client.set(this.listenersKey, "1", "PX", this.ttlMs);
    await present();
    const unsubscribe = await this.events.subscribe(handler);
    // A failed renewal is tried again at the next tick (the key lives three); said once.
    let failing = false;
    const renew = () =>
      present().then(
        () => void (failing = false),
        (error) => {
          if (!failing)
            logger.warn(
              `task events: renewing this subscriber's presence failed; events may be skipped until it works again: ${toError(error).message}`,
            );
          failing = true;
        },
      );
    const renewal = setInterval(renew, this.ttlMs / 3);
    renewal.unref();
    this.renewals.add(renewal);
    return async () => {
      clearInterval(renewal);
      this.renewals.delete(renewal);
      await unsubscribe();
    };
  }

  close(): Promise<void> {
    for (const renewal of this.renewals) clearInterval(renewal);
    this.renewals.clear();
    return this.events.close();
  }
}
