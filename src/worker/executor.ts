import type { TaskContext } from "../core/context.ts";
import type { RegisteredTask } from "../core/registry.ts";

/** One running handler. */
export interface TaskExecution {
  /** Settles with the handler's result or error. */
  readonly result: Promise<unknown>;
  /**
   * Stops the handler for good, when the executor can (a thread is terminated). Returns
   * false when it cannot (inline handlers only see their AbortSignal).
   */
  terminate(): boolean;
}

/**
 * The error a task fails with when the thread running its handler dies under it
 * (`process.exit`, an uncaught error, a crash): its type is `crashed`.
 */
export class HandlerCrashed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "crashed";
  }
}

/** Runs handlers: inline in the worker's event loop, or in threads. */
export interface Executor {
  execute(task: RegisteredTask, ctx: TaskContext): TaskExecution;
  close(): Promise<void>;
}

/** Runs handlers on the worker's own event loop (the default). */
export class InlineExecutor implements Executor {
  execute(task: RegisteredTask, ctx: TaskContext): TaskExecution {
    const result = (async () => task.handler.run(ctx, ctx.args))();
    return { result, terminate: () => false };
  }
  async close(): Promise<void> {}
}
