import { RetryRequest, type TaskContext } from "../core/context.ts";
import { StemError } from "../core/errors.ts";
import { ERROR_LINEAGE } from "../core/failure-control.ts";
import { logger } from "../core/logger.ts";
import type { RegisteredTask } from "../core/registry.ts";
import { HandlerCrashed, type Executor, type TaskExecution } from "./executor.ts";
import { threadEntryUrl } from "./thread-entry-url.ts";
import type { FromThread, ToThread } from "./thread-protocol.ts";

interface Thread {
  worker: Worker;
  tasksRun: number;
  /** Set once the thread has exited or was terminated: never used again. */
  dead: boolean;
  /** Fails the task the thread is running, if any, when the thread dies. */
  crashed?: (error: HandlerCrashed) => void;
}

export interface ThreadExecutorOptions {
  /** The module the threads import to find handlers (the `--tasks` file). */
  tasksModule: string;
  /** Replace a thread after it has run this many tasks. */
  maxTasksPerThread?: number;
}

/**
 * Runs each handler in a Bun Worker thread, one task per thread at a time. A handler
 * that must be stopped (hard time limit, revoke with terminate) has its thread
 * terminated; the next task gets a fresh thread, so a runaway CPU-bound loop cannot take
 * the worker down. A thread that dies by itself (`process.exit`, an uncaught error) fails
 * the task it was running with a `crashed` error and is never reused.
 */
export class ThreadExecutor implements Executor {
  private readonly idle: Thread[] = [];
  private readonly live = new Set<Thread>();

  constructor(private readonly options: ThreadExecutorOptions) {
    if (!options.tasksModule) {
      throw new StemError(
        "invalid_argument",
        "thread isolation needs the tasks module path (tasksModule)",
      );
    }
  }

  private spawn(): Thread {
    const worker = new Worker(threadEntryUrl());
    const thread: Thread = { worker, tasksRun: 0, dead: false };
    worker.addEventListener("error", (event: ErrorEvent) =>
      this.died(thread, `the handler thread crashed: ${event.message}`),
    );
    worker.addEventListener("close", (event: Event) =>
      this.died(thread, `the handler thread exited (code ${(event as CloseEvent).code})`),
    );
    this.live.add(thread);
    return thread;
  }

  /** A thread that exited or threw uncaught is dropped; the task it ran fails as crashed. */
  private died(thread: Thread, why: string): void {
    if (thread.dead) return;
    this.retire(thread);
    if (thread.crashed) {
      logger.warn(`${why}; its task fails and a new thread takes its place`);
      thread.crashed(new HandlerCrashed(why));
    }
  }

  private forget(thread: Thread): void {
    thread.dead = true;
    this.live.delete(thread);
    const at = this.idle.indexOf(thread);
    if (at >= 0) this.idle.splice(at, 1);
  }

  private retire(thread: Thread): void {
    this.forget(thread);
    thread.worker.terminate();
  }

  private release(thread: Thread): void {
    const max = this.options.maxTasksPerThread;
    if (thread.dead) return;
    if (max !== undefined && thread.tasksRun >= max) this.retire(thread);
    else this.idle.push(thread);
  }

  /** Threads alive now (running a task or idle). */
  get threads(): number {
    return this.live.size;
  }

  execute(task: RegisteredTask, ctx: TaskContext): TaskExecution {
    const thread = this.idle.pop() ?? this.spawn();
    thread.tasksRun++;
    let settled = false;
    let finish!: (ok: boolean, value: unknown) => void;
    const result = new Promise<unknown>((resolve, reject) => {
      finish = (ok, value) => {
        if (settled) return;
        settled = true;
        thread.crashed = undefined;
        ctx.signal.removeEventListener("abort", onAbort);
        thread.worker.removeEventListener("message", onMessage);
        ok ? resolve(value) : reject(value);
      };
    });
    thread.crashed = (error) => finish(false, error);
    const post = (message: ToThread) => thread.worker.postMessage(message);
    const onAbort = () => {
      const reason = ctx.signal.reason as { kind?: string; message?: string } | undefined;
      post({
        type: "abort",
        kind: reason?.kind ?? "revoked",
        message: reason?.message ?? "aborted",
      });
    };
    const onMessage = (event: MessageEvent<FromThread>) => {
      const m = event.data;
      switch (m.type) {
        case "result":
          finish(true, m.value);
          this.release(thread);
          break;
        case "error": {
          const error =
            m.error.retryCountdownMs !== undefined
              ? new RetryRequest(m.error.retryCountdownMs ?? undefined)
              : Object.assign(new Error(m.error.message), {
                  name: m.error.name,
                  stack: m.error.stack,
                  [ERROR_LINEAGE]: m.error.lineage,
                });
          finish(false, error);
          this.release(thread);
          break;
        }
        case "progress":
          void ctx.progress(m.percent, m.data);
          break;
        case "heartbeat":
          void ctx.heartbeat();
          break;
        case "extend":
          void ctx.extendLease(m.byMs);
          break;
        case "enqueue":
          ctx.enqueue(m.name, m.args, m.options).then(
            (id) => post({ type: "enqueued", requestId: m.requestId, id }),
            (error: Error) =>
              post({ type: "enqueued", requestId: m.requestId, error: error.message }),
          );
          break;
      }
    };
    thread.worker.addEventListener("message", onMessage);
    ctx.signal.addEventListener("abort", onAbort);
    post({
      type: "run",
      modulePath: this.options.tasksModule,
      ctx: {
        id: ctx.id,
        name: task.handler.name,
        queue: ctx.queue,
        attempt: ctx.attempt,
        args: ctx.args as Record<string, unknown>,
        headers: { ...ctx.headers },
        meta: { ...ctx.meta },
        workerId: ctx.workerId,
        previousResult: ctx.previousResult,
      },
    });
    return {
      result,
      terminate: () => {
        if (!settled) {
          this.retire(thread);
          finish(false, new Error("task thread terminated"));
        }
        return true;
      },
    };
  }

  async close(): Promise<void> {
    for (const thread of [...this.live]) this.retire(thread);
    this.idle.length = 0;
  }
}
