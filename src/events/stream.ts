/**
 * `client.events()`: task events as an async iterator. It subscribes at once (`ready`
 * resolves when live) and buffers events until they are read; ending the iteration
 * (`break`, `return()`, `close()`) unsubscribes.
 */
import { StemError } from "../core/errors.ts";
import { eventMatcher } from "./filter.ts";
import type { TaskEventHub } from "./hub.ts";
import type { TaskEvent, TaskEventFilter } from "./types.ts";

/** Events kept for a reader that falls behind; older ones are dropped (see `dropped`). */
export const DEFAULT_EVENT_BUFFER = 10_000;

export interface TaskEventStreamOptions extends TaskEventFilter {
  /** Events kept unread at most (default 10,000); the oldest are dropped beyond it. */
  bufferSize?: number;
}

/** An async iterator of task events; see `StemClient.events`. */
export class TaskEventStream implements AsyncIterableIterator<TaskEvent> {
  /** Resolves once the subscription is live: events sent from then on are received. */
  readonly ready: Promise<void>;
  /** Events dropped because the reader fell more than `bufferSize` behind. */
  dropped = 0;
  private readonly buffer: TaskEvent[] = [];
  private readonly bufferSize: number;
  private reader: {
    resolve: (result: IteratorResult<TaskEvent>) => void;
    reject: (error: unknown) => void;
  } | null = null;
  private failure: unknown;
  private done = false;
  private stop: Promise<(() => Promise<void>) | undefined>;

  /** `onClose` runs once when the stream closes (its owner forgets it). */
  constructor(
    hub: TaskEventHub,
    options: TaskEventStreamOptions = {},
    private readonly onClose?: () => void,
  ) {
    const { bufferSize = DEFAULT_EVENT_BUFFER, ...filter } = options;
    if (!Number.isInteger(bufferSize) || bufferSize < 1)
      throw new StemError(
        "invalid_argument",
        `bufferSize must be a positive integer, got ${bufferSize}`,
      );
    this.bufferSize = bufferSize;
    const matches = eventMatcher(filter);
    this.stop = hub
      .listen((event) => {
        if (!this.done && matches(event)) this.push(event);
      }, matches.taskIds)
      .catch((error) => {
        this.fail(error);
        return undefined;
      });
    this.ready = this.stop.then(() => {
      if (this.failure) throw this.failure;
    });
    // A caller that only iterates sees the failure from next(); not unhandled here.
    this.ready.catch(() => {});
  }

  private push(event: TaskEvent): void {
    if (this.reader) {
      const reader = this.reader;
      this.reader = null;
      reader.resolve({ value: event, done: false });
      return;
    }
    this.buffer.push(event);
    if (this.buffer.length > this.bufferSize) {
      this.buffer.shift();
      this.dropped++;
    }
  }

  private fail(error: unknown): void {
    this.failure = error;
    this.done = true;
    if (this.reader) {
      const reader = this.reader;
      this.reader = null;
      reader.reject(error);
    }
  }

  async next(): Promise<IteratorResult<TaskEvent>> {
    if (this.buffer.length > 0) return { value: this.buffer.shift()!, done: false };
    if (this.failure) throw this.failure;
    if (this.done) return { value: undefined, done: true };
    if (this.reader)
      throw new StemError("invalid_argument", "next() called before the previous one settled");
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject };
    });
  }

  /** Ends the iteration and unsubscribes (what `break` in `for await` calls). */
  async return(): Promise<IteratorResult<TaskEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** Unsubscribes; buffered events are discarded and a pending `next()` ends. */
  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      this.onClose?.();
      this.buffer.length = 0;
      const reader = this.reader;
      this.reader = null;
      reader?.resolve({ value: undefined, done: true });
    }
    const stop = await this.stop;
    this.stop = Promise.resolve(undefined);
    await stop?.();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
