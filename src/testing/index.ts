/** Test helpers for users and adapter authors: the contract suites and harness. */

export { brokerContract } from "./broker-contract.ts";
export { concurrencySlotsContract } from "./concurrency-slots-contract.ts";
export { controlBusContract } from "./control-bus-contract.ts";
export { type FaultPlan, type FaultyStore, injectFaults, injectPublishFaults } from "./faults.ts";
export { type FillOptions, fillQueue } from "./fill-queue.ts";
export * from "./harness.ts";
export { lockStoreContract } from "./lock-store-contract.ts";
export { minuteCountsContract } from "./minute-counts-contract.ts";
export { rateLimiterContract } from "./rate-limiter-contract.ts";
export { resultBackendContract } from "./result-backend-contract.ts";
export { retentionContract } from "./retention-contract.ts";
export { revokeStoreContract } from "./revoke-store-contract.ts";
export { scheduleEntry, scheduleStoreContract } from "./schedule-store-contract.ts";
export { enqueueOnceContract } from "./enqueue-once-contract.ts";
export { timelineContract } from "./timeline-contract.ts";
export { workflowFencingContract } from "./workflow-fencing-contract.ts";
export {
  WORKFLOW_CONTRACT_START,
  type WorkflowStoreContractFactory,
  workflowScriptFacadeContract,
  workflowStoreContract,
} from "./workflow-store-contract.ts";
