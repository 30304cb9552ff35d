import type { ControlBus } from "../contracts.ts";

/** Control messages within one process. */
export class MemoryControlBus implements ControlBus {
  private readonly handlers = new Map<string, Set<(m: Record<string, unknown>) => void>>();

  async publish(channel: string, message: Record<string, unknown>): Promise<void> {
    for (const handler of this.handlers.get(channel) ?? []) {
      queueMicrotask(() => handler(structuredClone(message)));
    }
  }

  async subscribe(
    channel: string,
    handler: (message: Record<string, unknown>) => void,
  ): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    return async () => {
      set.delete(handler);
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
