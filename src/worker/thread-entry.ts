/**
 * Runs inside a handler thread: imports the task module once, then runs one task per
 * "run" message, reporting back through postMessage.
 */
import { registerStemModule } from "../app/stem-module.ts";
import { collectTasks } from "../app/task-module.ts";
import { RetryRequest, TaskAbort, type TaskContext } from "../core/context.ts";
import { parseDuration } from "../core/duration.ts";
import { errorLineage } from "../core/failure-control.ts";
import type { AnyTaskHandler } from "../core/task.ts";
import type { FromThread, ThreadTaskContext, ToThread } from "./thread-protocol.ts";

declare const self: Worker;

// Task modules import "stem"; inside a thread that must resolve to this copy too.
registerStemModule();

const loaded = new Map<string, Map<string, AnyTaskHandler>>();
let abort: AbortController | null = null;
let nextRequest = 0;
const pendingEnqueues = new Map<number, { resolve(id: string): void; reject(e: Error): void }>();

const send = (message: FromThread) => self.postMessage(message);

async function tasksOf(modulePath: string): Promise<Map<string, AnyTaskHandler>> {
  let tasks = loaded.get(modulePath);
  if (!tasks) {
    tasks = new Map(collectTasks(await import(modulePath)).map((t) => [t.name, t]));
    loaded.set(modulePath, tasks);
  }
  return tasks;
}

function contextFor(c: ThreadTaskContext, signal: AbortSignal): TaskContext {
  return {
    ...c,
    signal,
    heartbeat: async () => send({ type: "heartbeat" }),
    extendLease: async (by) => {
      send({ type: "extend", byMs: by === undefined ? undefined : parseDuration(by) });
      return true;
    },
    progress: async (percent, data) => send({ type: "progress", percent, data }),
    retry: (options = {}) => {
      throw new RetryRequest(
        options.countdown === undefined ? undefined : parseDuration(options.countdown),
        options.error,
      );
    },
    enqueue: (name, args = {}, options = {}) =>
      new Promise<string>((resolve, reject) => {
        const requestId = ++nextRequest;
        pendingEnqueues.set(requestId, { resolve, reject });
        send({ type: "enqueue", requestId, name, args, options });
      }),
  };
}

async function run(modulePath: string, c: ThreadTaskContext): Promise<void> {
  abort = new AbortController();
  try {
    const task = (await tasksOf(modulePath)).get(c.name);
    if (!task) throw new Error(`task "${c.name}" is not exported by ${modulePath}`);
    const value = await task.run(contextFor(c, abort.signal), c.args);
    send({ type: "result", value });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    send({
      type: "error",
      error: {
        name: e.name,
        message: e.message,
        stack: e.stack,
        lineage: errorLineage(e),
        retryCountdownMs: error instanceof RetryRequest ? (error.countdownMs ?? null) : undefined,
      },
    });
  } finally {
    abort = null;
  }
}

self.onmessage = (event: MessageEvent<ToThread>) => {
  const message = event.data;
  switch (message.type) {
    case "run":
      void run(message.modulePath, message.ctx);
      break;
    case "abort":
      abort?.abort(new TaskAbort(message.kind as TaskAbort["kind"], message.message));
      break;
    case "enqueued": {
      const pending = pendingEnqueues.get(message.requestId);
      pendingEnqueues.delete(message.requestId);
      if (message.id) pending?.resolve(message.id);
      else pending?.reject(new Error(message.error ?? "enqueue failed"));
      break;
    }
  }
};
