/**
 * Task events on Redis: the control bus's pub/sub, plus a presence key so that publishers
 * with nobody to tell skip events altogether. A subscriber sets the key (with a ttl it
 * keeps renewing) before its subscription goes live; a publisher checks it after storing
 * the writes its events describe. So a subscription live before a write always makes
 * that write's events go out, and with no subscriber a worker spends nothing on events.
 * The key outlives the last subscriber by up to its ttl, during which events still go out.
 */
import type { RedisClient } from "./client.ts";
import { ControlBusTaskEvents } from "../../events/control-bus-events.ts";
import type { TaskEvent } from "../../events/types.ts";
import type { TaskEventBus } from "../contracts.ts";
import type { RedisControlBus } from "./control-bus.ts";

/** How long the presence key lives without renewal; subscribers renew it 3 times as often. */
export const LISTENER_TTL_MS = 15_000;

export class RedisTaskEvents implements TaskEventBus {
  private readonly events: ControlBusTaskEvents;

  constructor(
    private readonly client: RedisClient,
    bus: RedisControlBus,
    /** The presence key. */
    private readonly listenersKey: string,
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
    const present = () => this.client.set(this.listenersKey, "1", "PX", LISTENER_TTL_MS);
    await present();
    const unsubscribe = await this.events.subscribe(handler);
    // A failed renewal is retried at the next tick; the key lives 3 ticks.
    const renewal = setInterval(() => void present().catch(() => {}), LISTENER_TTL_MS / 3);
    renewal.unref();
    return async () => {
      clearInterval(renewal);
      await unsubscribe();
    };
  }

  close(): Promise<void> {
    return this.events.close();
  }
}
