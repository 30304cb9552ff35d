import type { ControlBus } from "../adapters/contracts.ts";
import { uuidv7 } from "../core/uuid.ts";
import {
  BROADCAST_CHANNEL,
  type ControlCommand,
  type ControlReply,
  replyChannel,
  workerChannel,
} from "./control-protocol.ts";

export interface ControlSendOptions {
  /** Only these workers; every live worker when omitted. */
  workers?: string[];
  payload?: Record<string, unknown>;
  /** Gather replies for this long (ms). Ends early once every targeted worker replied. */
  timeoutMs?: number;
  /**
   * For an untargeted command: the workers known to be alive (from their heartbeats).
   * Gathering ends as soon as each of them replied (at once when there is none); replies
   * from others are still kept. Without it, gathering lasts the whole timeout.
   */
  expected?: string[];
}

/**
 * Sends a control command and gathers the replies. Untargeted commands go to every live
 * worker (the bus fans out), so the replies come from all of them.
 */
export async function sendControl(
  bus: ControlBus,
  type: ControlCommand,
  options: ControlSendOptions = {},
): Promise<ControlReply[]> {
  const requestId = uuidv7();
  const replies = new Map<string, ControlReply>();
  const targets = options.workers?.length ? new Set(options.workers) : undefined;
  const awaited = targets ?? (options.expected ? new Set(options.expected) : undefined);
  const allReplied = () => awaited !== undefined && [...awaited].every((id) => replies.has(id));
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const stop = await bus.subscribe(replyChannel(requestId), (message) => {
    const reply = message as unknown as ControlReply;
    if (targets && !targets.has(reply.workerId)) return;
    replies.set(reply.workerId, reply);
    if (allReplied()) finish();
  });
  try {
    const request = { requestId, type, payload: options.payload ?? {} };
    const channels = targets ? [...targets].map(workerChannel) : [BROADCAST_CHANNEL];
    await Promise.all(channels.map((c) => bus.publish(c, request)));
    const timer = setTimeout(finish, options.timeoutMs ?? 2000);
    if (allReplied()) finish();
    await finished;
    clearTimeout(timer);
  } finally {
    await stop();
  }
  return [...replies.values()].sort((a, b) => a.workerId.localeCompare(b.workerId));
}
