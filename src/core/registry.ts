import { StemError } from "./errors.ts";
import {
  type AnyTaskHandler,
  type ResolvedTaskOptions,
  resolveTaskOptions,
  validateTaskName,
} from "./task.ts";
import { TaskDefinition } from "./definition.ts";
import { checkGroupRate } from "./rate-limit.ts";

/** A registered handler with its validated options. */
export interface RegisteredTask {
  handler: AnyTaskHandler;
  options: ResolvedTaskOptions;
}

/** Task handlers by name. Producers use it to refuse unknown names; workers to run tasks. */
export class TaskRegistry {
  private readonly tasks = new Map<string, RegisteredTask>();

  constructor(handlers: Iterable<AnyTaskHandler> = []) {
    for (const h of handlers) this.register(h);
  }

  /** Adds a handler; a second handler with the same name is an error unless `override`. */
  register(handler: AnyTaskHandler, { override = false } = {}): this {
    const name = validateTaskName(handler?.name);
    if (typeof handler.run !== "function") {
      throw new StemError("invalid_task_options", `task "${name}" has no run(ctx, args) function`);
    }
    if (this.tasks.has(name) && !override) {
      throw new StemError("invalid_task_options", `task "${name}" is registered twice`);
    }
    const options =
      handler instanceof TaskDefinition
        ? handler.resolved
        : resolveTaskOptions(name, handler.options);
    if (options.rateLimit?.group !== undefined) {
      checkGroupRate(
        name,
        options.rateLimit,
        [...this.tasks].map(([other, task]) => ({ name: other, limit: task.options.rateLimit })),
      );
    }
    this.tasks.set(name, { handler, options });
    return this;
  }

  get(name: string): RegisteredTask | undefined {
    return this.tasks.get(name);
  }

  has(name: string): boolean {
    return this.tasks.has(name);
  }

  names(): string[] {
    return [...this.tasks.keys()].sort();
  }

  all(): RegisteredTask[] {
    return this.names().map((n) => this.tasks.get(n)!);
  }
}
