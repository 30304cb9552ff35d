import { logger } from "../core/logger.ts";
import type { ControlBus, RevokeEntry } from "../adapters/contracts.ts";
import {
  BROADCAST_CHANNEL,
  type ControlReply,
  type ControlRequest,
  replyChannel,
  workerChannel,
} from "./control-protocol.ts";
import type { ShutdownMode, Worker } from "./worker.ts";

export interface ControlHandle {
  close(): Promise<void>;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** What a worker answers to each command. */
async function answer(worker: Worker, request: ControlRequest): Promise<Record<string, unknown>> {
  const p = request.payload ?? {};
  switch (request.type) {
    case "ping":
      return { timestamp: Date.now(), queues: worker.queues, inflight: worker.stats().inflight };
    case "stats":
      return { ...worker.stats() };
    case "inspect":
      return { active: worker.stats().active };
    case "revoke":
      return { terminated: worker.revoke((p.revocations as RevokeEntry[]) ?? []) };
    case "pause":
      worker.pause(strings(p.queues));
      return { paused: worker.stats().pausedQueues };
    case "resume":
      worker.resume(strings(p.queues));
      return { paused: worker.stats().pausedQueues };
    case "shutdown":
      return { mode: p.mode === "hard" ? "hard" : "warm" };
    default:
      throw new Error(`unknown control command "${String(request.type)}"`);
  }
}

/** Subscribes a worker to its control channels and answers requests on the reply channel. */
export async function attachControl(worker: Worker, bus: ControlBus): Promise<ControlHandle> {
  const logFailure = (error: unknown) =>
    logger.error(`worker ${worker.id}: control message failed: ${(error as Error).message}`);
  const handle = async (message: Record<string, unknown>) => {
    const request = message as unknown as ControlRequest;
    if (typeof request.requestId !== "string" || typeof request.type !== "string") return;
    let reply: ControlReply;
    try {
      reply = {
        requestId: request.requestId,
        workerId: worker.id,
        status: "ok",
        payload: await answer(worker, request),
      };
    } catch (error) {
      reply = {
        requestId: request.requestId,
        workerId: worker.id,
        status: "error",
        payload: {},
        error: (error as Error).message,
      };
    }
    try {
      await bus.publish(
        replyChannel(request.requestId),
        reply as unknown as Record<string, unknown>,
      );
    } catch (error) {
      logger.warn(`worker ${worker.id}: control reply failed: ${(error as Error).message}`);
    }
    if (request.type === "shutdown" && reply.status === "ok") {
      worker
        .shutdown(reply.payload.mode as ShutdownMode)
        .catch((error) =>
          logger.error(`worker ${worker.id}: shutdown failed: ${(error as Error).message}`),
        );
    }
  };
  const stops = await Promise.all([
    bus.subscribe(BROADCAST_CHANNEL, (m) => void handle(m).catch(logFailure)),
    bus.subscribe(workerChannel(worker.id), (m) => void handle(m).catch(logFailure)),
  ]);
  return {
    close: async () => {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
