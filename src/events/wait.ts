/**
 * Waiting for something stored to reach a state, woken by task events instead of polling:
 * read, and if not done, wait for a matching event (or the fallback poll, as an event can
 * be missed) and read again.
 */
import { systemClock } from "../core/clock.ts";
import { logger } from "../core/logger.ts";
import { toError } from "../core/errors.ts";
import type { TaskEventHub } from "./hub.ts";
import { FINAL_EVENT_STATES, type TaskEvent } from "./types.ts";

/** How often a wait woken by events reads anyway, in case an event was missed. */
export const DEFAULT_FALLBACK_POLL_MS = 1000;

export interface EventWaitOptions<T> {
  /** Reads the current value. */
  read: () => Promise<T>;
  /** True when `value` is what was waited for. */
  done: (value: T) => boolean;
  /** Epoch ms (Date.now) after which `onTimeout` is thrown. */
  deadline: number;
  onTimeout: (last: T) => Error;
  /** Wake for final events of these tasks; every final event when omitted. */
  taskIds?: string[];
  /** Reads at least this often without an event. */
  pollMs?: number;
}

/**
 * Reads until `done`, waking on final task events from `hub`. Without a hub, or when
 * subscribing fails, it polls (`fastPoll`: from 5 ms, doubling up to 200 ms).
 */
export async function waitWithEvents<T>(
  hub: TaskEventHub | undefined,
  options: EventWaitOptions<T>,
): Promise<T> {
  let signaled = false;
  let wake: (() => void) | null = null;
  const onEvent = (event: TaskEvent) => {
    if (!FINAL_EVENT_STATES.has(event.state)) return;
    signaled = true;
    wake?.();
  };
  let stop: (() => Promise<void>) | undefined;
  if (hub) {
    try {
      stop = await hub.listen(onEvent, options.taskIds);
    } catch (error) {
      logger.warn(`task events unavailable, polling instead: ${toError(error).message}`);
    }
  }
  let pause = 5;
  try {
    for (;;) {
      signaled = false;
      const value = await options.read();
      if (options.done(value)) return value;
      const left = options.deadline - Date.now();
      if (left <= 0) throw options.onTimeout(value);
      if (!stop) {
        await systemClock.sleep(Math.min(pause, left));
        pause = Math.min(pause * 2, 200);
        continue;
      }
      if (signaled) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          resolve,
          Math.min(options.pollMs ?? DEFAULT_FALLBACK_POLL_MS, left),
        );
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    await stop?.();
  }
}
