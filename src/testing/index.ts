/** Test helpers for users and adapter authors: the contract suites and harness. */
export * from "./harness.ts";
export { brokerContract } from "./broker-contract.ts";
export { resultBackendContract } from "./result-backend-contract.ts";
export { timelineContract } from "./timeline-contract.ts";
export { minuteCountsContract } from "./minute-counts-contract.ts";
export { lockStoreContract } from "./lock-store-contract.ts";
export { revokeStoreContract } from "./revoke-store-contract.ts";
export { retentionContract } from "./retention-contract.ts";
export { rateLimiterContract } from "./rate-limiter-contract.ts";
export { concurrencySlotsContract } from "./concurrency-slots-contract.ts";
export { scheduleStoreContract, scheduleEntry } from "./schedule-store-contract.ts";
export { controlBusContract } from "./control-bus-contract.ts";
export {
  workflowStoreContract,
  workflowScriptFacadeContract,
  type WorkflowStoreContractFactory,
  WORKFLOW_CONTRACT_START,
} from "./workflow-store-contract.ts";
export { workflowFencingContract } from "./workflow-fencing-contract.ts";
export { injectFaults, type FaultPlan, type FaultyStore } from "./faults.ts";
export { fillQueue, type FillOptions } from "./fill-queue.ts";
