/** Messages between the worker and its handler threads. */
import type { EnqueueOptions } from "../core/enqueue-options.ts";

export interface ThreadTaskContext {
  id: string;
  name: string;
  queue: string;
  attempt: number;
  args: Record<string, unknown>;
  headers: Record<string, string>;
  meta: Record<string, unknown>;
  workerId: string;
  previousResult?: unknown;
}

export type ToThread =
  | { type: "run"; modulePath: string; ctx: ThreadTaskContext }
  | { type: "abort"; kind: string; message: string }
  | { type: "enqueued"; requestId: number; id?: string; error?: string };

export interface ThreadError {
  name: string;
  message: string;
  stack?: string;
  /** Class names from the error's class up (retryOn matches classes by these names). */
  lineage?: string[];
  /** Set when the handler called ctx.retry(). */
  retryCountdownMs?: number | null;
}

export type FromThread =
  | { type: "result"; value: unknown }
  | { type: "error"; error: ThreadError }
  | { type: "progress"; percent: number; data?: unknown }
  | { type: "heartbeat" }
  | { type: "extend"; byMs?: number }
  | {
      type: "enqueue";
      requestId: number;
      name: string;
      args: Record<string, unknown>;
      options: EnqueueOptions;
    };
