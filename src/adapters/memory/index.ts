import type { ConnectOptions, StoreConnection } from "../contracts.ts";
import type { Clock } from "../../core/clock.ts";
import { MemoryBroker } from "./broker.ts";
import { MemoryConcurrencySlots } from "./concurrency-slots.ts";
import { MemoryControlBus } from "./control-bus.ts";
import { ControlBusTaskEvents } from "../../events/control-bus-events.ts";
import { MemoryLockStore } from "./lock-store.ts";
import { MemoryRateLimiter } from "./rate-limiter.ts";
import { MemoryResultBackend } from "./result-backend.ts";
import { MemoryRevokeStore } from "./revoke-store.ts";
import { MemoryScheduleStore } from "./schedule-store.ts";
import { MemoryWorkflowStore } from "./workflow-store.ts";

export {
  MemoryBroker,
  MemoryConcurrencySlots,
  MemoryControlBus,
  MemoryLockStore,
  MemoryRateLimiter,
  MemoryResultBackend,
  MemoryRevokeStore,
  MemoryScheduleStore,
  MemoryWorkflowStore,
};

/** Every store in process memory, made once and shared by everything using this connection. */
export function openMemory(
  url = "memory://",
  options: ConnectOptions & { clock?: Clock } = {},
): StoreConnection {
  const broker = new MemoryBroker(options.clock);
  const backend = new MemoryResultBackend(options.clock, options.resultTtlMs);
  const schedules = new MemoryScheduleStore(options.clock);
  const locks = new MemoryLockStore(options.clock);
  const revokes = new MemoryRevokeStore();
  const limiter = new MemoryRateLimiter(options.clock);
  const slots = new MemoryConcurrencySlots(options.clock);
  const control = new MemoryControlBus();
  const events = new ControlBusTaskEvents(control);
  const workflows = new MemoryWorkflowStore(options.clock);
  return {
    url,
    broker: () => broker,
    resultBackend: () => backend,
    scheduleStore: () => schedules,
    lockStore: () => locks,
    revokeStore: () => revokes,
    rateLimiter: () => limiter,
    concurrencySlots: () => slots,
    controlBus: () => control,
    taskEvents: () => events,
    workflowStore: () => workflows,
    ping: async () => {},
    verify: async () => ({}),
    close: async () => {
      await Promise.all([broker.close(), control.close()]);
    },
  };
}
