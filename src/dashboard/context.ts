/**
 * What every dashboard route reads from: the client's stores, the schedule store, a
 * workflow runtime, the counter history reader and the depth sampler. Opened once per
 * dashboard.
 */
import type { ScheduleStore } from "../adapters/contracts.ts";
import type { StemClient } from "../app/client.ts";
import { isLost } from "../worker/liveness.ts";
import { loadPausedQueues } from "../worker/revocations.ts";
import { sendControl } from "../worker/control-client.ts";
import type { ControlCommand, ControlReply } from "../worker/control-protocol.ts";
import { WorkflowRuntime } from "../workflow/runtime.ts";
import { DepthSampler } from "./depth-sampler.ts";
import { MinuteCountReader } from "./history.ts";

export interface DashboardContext {
  client: StemClient;
  schedules: ScheduleStore;
  workflows: WorkflowRuntime;
  /** Samples queue depth into the per-minute counters. */
  depth: DepthSampler;
  /** Reads the per-minute counters (task throughput and durations, depth). */
  counts: MinuteCountReader;
  readOnly: boolean;
  now(): number;
  /** Sends a control command to live workers (or the given ones) and gathers replies. */
  control(
    type: ControlCommand,
    payload?: Record<string, unknown>,
    workers?: string[],
  ): Promise<ControlReply[]>;
  /** Queues paused in the revoke store (what new workers honour). */
  pausedQueues(): Promise<Set<string>>;
}

/** How long an action waits for worker replies. */
const CONTROL_TIMEOUT_MS = 1500;

export async function openContext(
  client: StemClient,
  options: { readOnly: boolean; sampleIntervalMs: number; now: () => number },
): Promise<DashboardContext> {
  const { config } = client;
  const schedules = (
    await client.connection(config.scheduleStoreUrl ?? config.brokerUrl)
  ).scheduleStore();
  const workflowStore = (await client.connection(config.workflowStoreUrl)).workflowStore();
  const workflows = new WorkflowRuntime({
    store: workflowStore,
    stem: client.stem,
    queue: config.defaultQueue,
  });
  const depth = new DepthSampler(
    () => client.broker.stats(),
    client.backend,
    options.sampleIntervalMs,
    options.now,
  );
  return {
    client,
    schedules,
    workflows,
    depth,
    counts: new MinuteCountReader(client.backend, options.now),
    readOnly: options.readOnly,
    now: options.now,
    async control(type, payload = {}, workers) {
      const now = options.now();
      const expected = (await client.backend.listHeartbeats())
        .filter((hb) => !isLost(hb, now))
        .map((hb) => hb.workerId);
      return sendControl(client.controlBus, type, {
        workers,
        expected,
        payload,
        timeoutMs: CONTROL_TIMEOUT_MS,
      });
    },
    pausedQueues: () => loadPausedQueues(client.revokeStore, options.now()),
  };
}
