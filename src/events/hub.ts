/**
 * One subscription to a store's task events shared by everything in a process that
 * listens (event streams, waits for tasks): subscribed while anyone listens, dropped when
 * the last listener leaves. Listeners for given task ids are found by id, so a thousand
 * waits cost no more per event than one.
 */
import type { TaskEventBus } from "../adapters/contracts.ts";
import { logger } from "../core/logger.ts";
import { toError } from "../core/errors.ts";
import type { TaskEvent } from "./types.ts";

export type TaskEventListener = (event: TaskEvent) => void;

export class TaskEventHub {
  private readonly everything = new Set<TaskEventListener>();
  private readonly byTask = new Map<string, Set<TaskEventListener>>();
  private listeners = 0;
  private subscription: Promise<() => Promise<void>> | null = null;

  constructor(readonly bus: TaskEventBus) {}

  /**
   * Calls `listener` with every event (or, with `taskIds`, only those tasks' events) from
   * when the returned promise resolves (the subscription is live) until the returned
   * function is called.
   */
  async listen(listener: TaskEventListener, taskIds?: string[]): Promise<() => Promise<void>> {
    if (taskIds) {
      for (const id of taskIds) {
        let set = this.byTask.get(id);
        if (!set) this.byTask.set(id, (set = new Set()));
        set.add(listener);
      }
    } else this.everything.add(listener);
    this.listeners++;
    let removed = false;
    const remove = async () => {
      if (removed) return;
      removed = true;
      this.forget(listener, taskIds);
      if (--this.listeners > 0) return;
      const subscription = this.subscription;
      this.subscription = null;
      const stop = await subscription?.catch(() => null);
      await stop?.();
    };
    if (!this.subscription) {
      const subscribing = this.bus.subscribe((events) => this.dispatch(events));
      this.subscription = subscribing;
      subscribing.catch(() => {
        if (this.subscription === subscribing) this.subscription = null;
      });
    }
    try {
      await this.subscription;
    } catch (error) {
      await remove();
      throw error;
    }
    return remove;
  }

  private forget(listener: TaskEventListener, taskIds?: string[]): void {
    if (!taskIds) {
      this.everything.delete(listener);
      return;
    }
    for (const id of taskIds) {
      const set = this.byTask.get(id);
      if (set?.delete(listener) && set.size === 0) this.byTask.delete(id);
    }
  }

  private dispatch(events: TaskEvent[]): void {
    for (const event of events) {
      if (typeof event?.taskId !== "string") continue;
      for (const listener of this.everything) this.call(listener, event);
      const forTask = this.byTask.get(event.taskId);
      if (forTask) for (const listener of [...forTask]) this.call(listener, event);
    }
  }

  private call(listener: TaskEventListener, event: TaskEvent): void {
    try {
      listener(event);
    } catch (error) {
      logger.warn(`a task event listener failed: ${toError(error).message}`);
    }
  }
}
