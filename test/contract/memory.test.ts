import { MemoryBroker } from "../../src/adapters/memory/broker.ts";
import { MemoryConcurrencySlots } from "../../src/adapters/memory/concurrency-slots.ts";
import { MemoryControlBus } from "../../src/adapters/memory/control-bus.ts";
import { MemoryLockStore } from "../../src/adapters/memory/lock-store.ts";
import { MemoryRateLimiter } from "../../src/adapters/memory/rate-limiter.ts";
import { MemoryResultBackend } from "../../src/adapters/memory/result-backend.ts";
import { MemoryRevokeStore } from "../../src/adapters/memory/revoke-store.ts";
import { MemoryScheduleStore } from "../../src/adapters/memory/schedule-store.ts";
import { MemoryWorkflowStore } from "../../src/adapters/memory/workflow-store.ts";
import { openMemory } from "../../src/adapters/memory/index.ts";
import {
  brokerContract,
  concurrencySlotsContract,
  type ContractFactory,
  controlBusContract,
  lockStoreContract,
  rateLimiterContract,
  minuteCountsContract,
  resultBackendContract,
  retentionContract,
  revokeStoreContract,
  scheduleStoreContract,
  workflowScriptFacadeContract,
  workflowFencingContract,
  workflowStoreContract,
  type WorkflowStoreContractFactory,
} from "../../src/testing/index.ts";

/** In memory, "another instance on the same store" is the same object. */
function shared<T extends { close(): Promise<void> }>(make: () => T): ContractFactory<T> {
  return {
    async create() {
      const subject = make();
      return { subject, peer: async () => subject, cleanup: () => subject.close() };
    },
  };
}

brokerContract(
  "memory",
  shared(() => new MemoryBroker()),
);
resultBackendContract(
  "memory",
  shared(() => new MemoryResultBackend()),
);
minuteCountsContract(
  "memory",
  shared(() => new MemoryResultBackend()),
);
lockStoreContract(
  "memory",
  shared(() => new MemoryLockStore()),
);
revokeStoreContract(
  "memory",
  shared(() => new MemoryRevokeStore()),
);
rateLimiterContract(
  "memory",
  shared(() => new MemoryRateLimiter()),
);
concurrencySlotsContract(
  "memory",
  shared(() => new MemoryConcurrencySlots()),
);
scheduleStoreContract(
  "memory",
  shared(() => new MemoryScheduleStore()),
);
controlBusContract(
  "memory",
  shared(() => new MemoryControlBus()),
);

const memoryWorkflowStores: WorkflowStoreContractFactory = {
  async create(clock) {
    const subject = new MemoryWorkflowStore(clock);
    return { subject, peer: async () => subject, cleanup: () => subject.close() };
  },
};
workflowStoreContract("memory", memoryWorkflowStores);
workflowFencingContract("memory", memoryWorkflowStores);
workflowScriptFacadeContract("memory", memoryWorkflowStores);

retentionContract(
  "memory",
  shared(() => openMemory()),
);
