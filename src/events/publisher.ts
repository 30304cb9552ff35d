/**
 * Sends task events without holding anyone up: events added in one turn of the event
 * loop go out as one batch (one `TaskEventBus.publish`), after the writes they describe
 * are stored, and nobody awaits the send. A failed send is logged (once per outage) and
 * its events dropped: events are best effort.
 */
import type { TaskEventBus } from "../adapters/contracts.ts";
import { logger } from "../core/logger.ts";
import { toError } from "../core/errors.ts";
import type { TaskStatus } from "../core/states.ts";
import { eventsFromStatus } from "./from-status.ts";
import type { TaskEvent } from "./types.ts";

export class TaskEventPublisher {
  private pending: TaskEvent[] = [];
  private scheduled = false;
  private readonly sending = new Set<Promise<void>>();
  private failing = false;

  constructor(private readonly bus: TaskEventBus) {}

  /** Announces the events these stored statuses stand for. */
  statuses(statuses: Iterable<TaskStatus>): void {
    for (const status of statuses) this.add(eventsFromStatus(status));
  }

  /** Queues events for the next batch. */
  add(events: TaskEvent[]): void {
    if (events.length === 0) return;
    this.pending.push(...events);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.send();
    });
  }

  private send(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const sent = this.bus.publish(batch).then(
      () => {
        if (this.failing) logger.info("task events: sending works again");
        this.failing = false;
      },
      (error) => {
        if (!this.failing)
          logger.warn(`task events: sending failed, events dropped: ${toError(error).message}`);
        this.failing = true;
      },
    );
    this.sending.add(sent);
    void sent.finally(() => this.sending.delete(sent));
  }

  /** Sends what is queued and waits for every send under way (before closing the store). */
  async flush(): Promise<void> {
    this.send();
    await Promise.all([...this.sending]);
  }
}
