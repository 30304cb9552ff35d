/**
 * Task events over an adapter's control bus (memory, Redis pub/sub, Postgres
 * LISTEN/NOTIFY): one control channel carries every batch, split into messages of at most
 * `maxMessageBytes` so a backend with a payload limit (Postgres NOTIFY) always sends them
 * inline.
 */
import type { ControlBus, TaskEventBus } from "../adapters/contracts.ts";
import { logger } from "../core/logger.ts";
import type { TaskEvent } from "./types.ts";

/** The control channel task events travel on. */
export const TASK_EVENTS_CHANNEL = "stem.task-events";

/** Publishes `messages` in order: in one go where the bus can (`publishMany`), else one by one. */
export async function publishAll(
  bus: ControlBus,
  channel: string,
  messages: Record<string, unknown>[],
): Promise<void> {
  if (bus.publishMany) return bus.publishMany(channel, messages);
  for (const message of messages) await bus.publish(channel, message);
}

export class ControlBusTaskEvents implements TaskEventBus {
  constructor(
    private readonly bus: ControlBus,
    private readonly maxMessageBytes = 64 * 1024,
  ) {}

  /** One message after the other, so they arrive in order (together where the bus can). */
  async publish(events: TaskEvent[]): Promise<void> {
    const messages = splitBySize(events, this.maxMessageBytes).map((chunk) => ({ events: chunk }));
    await publishAll(this.bus, TASK_EVENTS_CHANNEL, messages);
  }

  subscribe(handler: (events: TaskEvent[]) => void): Promise<() => Promise<void>> {
    return this.bus.subscribe(TASK_EVENTS_CHANNEL, (message) => {
      if (Array.isArray(message.events)) handler(message.events as TaskEvent[]);
      else logger.warn(`${TASK_EVENTS_CHANNEL}: ignored a message without an events list`);
    });
  }

  /** The control bus belongs to the connection, which closes it. */
  async close(): Promise<void> {}
}

/**
 * Splits events into chunks whose JSON stays within `maxBytes` (each event's own size is
 * bounded by the event builder, so a single event always fits).
 */
export function splitBySize(events: TaskEvent[], maxBytes: number): TaskEvent[][] {
  const chunks: TaskEvent[][] = [];
  let current: TaskEvent[] = [];
  // `{"events":[...]}` plus the transport's own wrapping.
  let size = 64;
  for (const event of events) {
    const bytes = Buffer.byteLength(JSON.stringify(event)) + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 64;
    }
    current.push(event);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
