/** The worker control protocol carried over a ControlBus. */

export type ControlCommand =
  | "ping"
  | "stats"
  | "inspect"
  | "revoke"
  | "pause"
  | "resume"
  | "shutdown";

export const CONTROL_COMMANDS: readonly ControlCommand[] = [
  "ping",
  "stats",
  "inspect",
  "revoke",
  "pause",
  "resume",
  "shutdown",
];

export interface ControlRequest {
  requestId: string;
  type: ControlCommand;
  payload: Record<string, unknown>;
}

export interface ControlReply {
  requestId: string;
  workerId: string;
  status: "ok" | "error";
  payload: Record<string, unknown>;
  error?: string;
}

/** Every live worker listens here; untargeted commands reach all of them. */
export const BROADCAST_CHANNEL = "control:broadcast";
export const workerChannel = (workerId: string) => `control:worker:${workerId}`;
export const replyChannel = (requestId: string) => `control:reply:${requestId}`;
