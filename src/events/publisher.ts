/**
 * Sends task events without holding anyone up: events added within {@link EVENT_BATCH_MS}
 * go out as one batch (one `TaskEventBus.publish`), after the writes they describe are
 * stored, and nobody awaits the send. (Sending each enqueue's event on its own cost a
 * producer enqueueing one task at a time 40% of its rate on Redis.) One send at a time, so events keep their order
 * (a pool of connections could reorder concurrent ones); what is added meanwhile goes in
 * the next batch. A failed send is logged (once per outage) and its events dropped:
 * events are best effort.
 *
 * Events are built only when a batch goes out, and not at all when the bus says nobody
 * listens (`anyoneListening`, asked after the writes they describe are stored): a worker
 * draining with no subscriber spends nothing on events.
 */
import type { TaskEventBus } from "../adapters/contracts.ts";
import { toError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
import type { TaskStatus } from "../core/states.ts";
import { eventsFromStatus } from "./from-status.ts";
import type { TaskEvent } from "./types.ts";

/** How long events wait for others to share their batch. */
export const EVENT_BATCH_MS = 5;

/** What a batch is made of: stored statuses, or a function that makes events. */
type Pending = TaskStatus | (() => TaskEvent[]);

export class TaskEventPublisher {
  private pending: Pending[] = [];
  private scheduled = false;
  /** The send under way, if any. */
  private sending: Promise<void> | null = null;
  private failing = false;

  constructor(private readonly bus: TaskEventBus) {}

  /** Announces the events these stored statuses stand for. */
  statuses(statuses: Iterable<TaskStatus>): void {
    for (const status of statuses) this.pending.push(status);
    this.schedule();
  }

  /** Queues events for the next batch; `make` is called only if the batch is sent. */
  add(make: () => TaskEvent[]): void {
    this.pending.push(make);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      this.send();
    }, EVENT_BATCH_MS);
  }

  private send(): void {
    if (this.sending || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.sending = this.deliver(batch).then(
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
    // What came in meanwhile waits for its own window, not sent at once: a send per
    // round trip would be a send per event for a producer enqueueing one at a time.
    void this.sending.then(() => {
      this.sending = null;
      if (this.pending.length > 0) this.schedule();
    });
  }

  private async deliver(batch: Pending[]): Promise<void> {
    if (this.bus.anyoneListening && !(await this.bus.anyoneListening())) return;
    const events: TaskEvent[] = [];
    for (const item of batch) {
      for (const event of typeof item === "function" ? item() : eventsFromStatus(item))
        events.push(event);
    }
    if (events.length > 0) await this.bus.publish(events);
  }

  /** Sends what is queued and waits until everything is sent (before closing the store). */
  async flush(): Promise<void> {
    for (;;) {
      this.send();
      if (!this.sending) return;
      await this.sending;
    }
  }
}
