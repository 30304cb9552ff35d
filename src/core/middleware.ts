import type { TaskContext } from "./context.ts";
import type { Envelope } from "./envelope.ts";
import { StemError } from "./errors.ts";

/**
 * Code around enqueue and around execution, registered with `client.use(...)` (or
 * `stem.use`, `worker.use`) and run in registration order, each wrapping the next.
 *
 * - `enqueue(envelope, next)`: before the task is published; may change the envelope
 *   (add headers), call `next(envelope)` to go on, time or log around it, or throw to
 *   refuse: the enqueue call then rejects and nothing of that call is published. `next`
 *   resolves once the task is published (signing and other `beforePublish` hooks run
 *   after every middleware, so a signature covers what middleware set).
 * - `execute(ctx, next)`: around the handler on the worker; returns (or changes) what
 *   `next()` returned. A throw fails the attempt like a handler error (retried, then
 *   dead-lettered), with a message naming the middleware; the worker goes on.
 */
export interface Middleware {
  /** Named in errors; default `middleware #N` (its position, from 1). */
  name?: string;
  enqueue?(envelope: Envelope, next: (envelope: Envelope) => Promise<void>): Promise<void>;
  execute?(ctx: TaskContext, next: () => Promise<unknown>): Promise<unknown>;
}

/** An error a middleware threw itself (not one that came up through its `next`). */
export class MiddlewareError extends StemError {
  constructor(
    readonly middleware: string,
    readonly stage: "enqueue" | "execute",
    cause: unknown,
  ) {
    super(
      "middleware_failed",
      `${stage} middleware "${middleware}" failed: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
    this.name = "MiddlewareError";
  }
}

/**
 * Runs `layers` around `terminal`, in order. An error a layer throws itself is wrapped in
 * a MiddlewareError naming it; one that came up from further in passes unchanged.
 */
export function compose<A extends unknown[], R>(
  stage: "enqueue" | "execute",
  layers: { name: string; run: (next: (...args: A) => Promise<R>, ...args: A) => Promise<R> }[],
  terminal: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  const at =
    (i: number) =>
    async (...args: A): Promise<R> => {
      if (i === layers.length) return terminal(...args);
      const layer = layers[i]!;
      let fromInside: { error: unknown } | undefined;
      let called = false;
      const next = async (...nextArgs: A) => {
        called = true;
        try {
          return await at(i + 1)(...nextArgs);
        } catch (error) {
          fromInside = { error };
          throw error;
        }
      };
      let result: R;
      try {
        result = await layer.run(next, ...args);
      } catch (error) {
        if (fromInside && fromInside.error === error) throw error;
        throw new MiddlewareError(layer.name, stage, error);
      }
      if (!called) {
        throw new MiddlewareError(layer.name, stage, new Error("returned without calling next"));
      }
      return result;
    };
  return at(0);
}

/** The middleware's name for errors. */
export function middlewareName(middleware: Middleware, index: number): string {
  return middleware.name ?? `middleware #${index + 1}`;
}

/** Checks what `use` was given; throws naming the problem. */
export function checkMiddleware(middleware: Middleware): Middleware {
  if (typeof middleware !== "object" || middleware === null) {
    throw new StemError("invalid_argument", "use() takes an object with enqueue and/or execute");
  }
  for (const key of ["enqueue", "execute"] as const) {
    if (middleware[key] !== undefined && typeof middleware[key] !== "function") {
      throw new StemError("invalid_argument", `middleware ${key} must be a function`);
    }
  }
  if (!middleware.enqueue && !middleware.execute) {
    throw new StemError("invalid_argument", "middleware needs an enqueue or an execute function");
  }
  return middleware;
}
