import type { TaskContext } from "../core/context.ts";
import { type Middleware, compose, middlewareName } from "../core/middleware.ts";
import type { TaskExecution } from "./executor.ts";

/**
 * Runs the handler (`start`) inside the execute middleware, in registration order. The
 * handler starts only when the innermost middleware calls `next`; terminating before that
 * means it never starts. A middleware's own error fails the attempt as a MiddlewareError.
 */
export function executeThrough(
  middleware: readonly Middleware[],
  ctx: TaskContext,
  start: () => TaskExecution,
): TaskExecution {
  const layers = middleware.flatMap((m, i) =>
    m.execute
      ? [
          {
            name: middlewareName(m, i),
            run: (next: () => Promise<unknown>) => m.execute!(ctx, next),
          },
        ]
      : [],
  );
  if (layers.length === 0) return start();
  let running: TaskExecution | undefined;
  let stopped = false;
  const result = compose("execute", layers, () => {
    if (stopped) return Promise.reject(new Error("the attempt ended before the handler started"));
    running = start();
    return running.result;
  })();
  return {
    result,
    // Not started yet: it never will be, so nothing is left running.
    terminate: () => {
      stopped = true;
      return running ? running.terminate() : true;
    },
  };
}
