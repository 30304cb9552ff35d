import type { TaskContext } from "./context.ts";
import type { DurationInput } from "./duration.ts";
import type { EnqueueOptions, LinkedCall } from "./enqueue-options.ts";
import {
  type ResolvedTaskOptions,
  type TaskHandler,
  type TaskMetadata,
  type TaskOptions,
  resolveTaskOptions,
  validateTaskName,
} from "./task.ts";

/** Anything that can enqueue by name: the producer `Stem`, a client, `FakeStem`, a task context. */
export interface Enqueuer {
  enqueue(name: string, args?: Record<string, unknown>, options?: EnqueueOptions): Promise<string>;
}

/** A task name with encoded args and options, ready to enqueue or compose in a canvas. */
export interface TaskCall {
  name: string;
  args: Record<string, unknown>;
  /** Per-call options; none when left out. */
  options?: EnqueueOptions;
}

/** What `defineTask` takes. `encodeArgs` maps typed args to the stored map (default: as is). */
export interface TaskSpec<Args, Result> {
  name: string;
  options?: TaskOptions;
  metadata?: TaskMetadata;
  encodeArgs?: (args: Args) => Record<string, unknown>;
  run(ctx: TaskContext<Args>, args: Args): Promise<Result> | Result;
}

/** A typed task: a handler to register, plus helpers to enqueue it with checked args. */
export class TaskDefinition<Args = Record<string, unknown>, Result = unknown>
  implements TaskHandler<Args, Result>
{
  readonly name: string;
  readonly options: TaskOptions;
  readonly metadata: TaskMetadata;
  /** Options validated at definition time. */
  readonly resolved: ResolvedTaskOptions;
  private readonly spec: TaskSpec<Args, Result>;

  constructor(spec: TaskSpec<Args, Result>) {
    this.name = validateTaskName(spec.name);
    this.options = spec.options ?? {};
    this.metadata = spec.metadata ?? {};
    this.resolved = resolveTaskOptions(this.name, this.options);
    this.spec = spec;
  }

  run(ctx: TaskContext<Args>, args: Args): Promise<Result> | Result {
    return this.spec.run(ctx, args);
  }

  /** The stored form of typed args. */
  encodeArgs(args: Args): Record<string, unknown> {
    return this.spec.encodeArgs ? this.spec.encodeArgs(args) : (args as Record<string, unknown>);
  }

  /** A call of this task with these args, for canvas or `enqueueCall`. */
  call(args: Args, options: EnqueueOptions = {}): TaskCall {
    return { name: this.name, args: this.encodeArgs(args), options };
  }

  /** Starts a fluent enqueue: `task.with(args).priority(5).delay("30s").enqueueWith(stem)`. */
  with(args: Args): TaskEnqueueBuilder {
    return new TaskEnqueueBuilder(this.call(args));
  }

  /** Enqueues this task through `enqueuer`. */
  enqueue(enqueuer: Enqueuer, args: Args, options: EnqueueOptions = {}): Promise<string> {
    return enqueuer.enqueue(this.name, this.encodeArgs(args), options);
  }
}

/** Defines a typed task. Options are validated now: a bad rate limit throws, naming the task. */
export function defineTask<Args = Record<string, unknown>, Result = unknown>(
  spec: TaskSpec<Args, Result>,
): TaskDefinition<Args, Result> {
  return new TaskDefinition(spec);
}

/** Builds one enqueue step by step. */
export class TaskEnqueueBuilder {
  private readonly options: EnqueueOptions;
  constructor(private readonly base: TaskCall) {
    this.options = {
      ...base.options,
      headers: { ...base.options?.headers },
      meta: { ...base.options?.meta },
    };
  }
  header(name: string, value: string): this {
    this.options.headers![name] = value;
    return this;
  }
  meta(key: string, value: unknown): this {
    this.options.meta![key] = value;
    return this;
  }
  priority(priority: number): this {
    this.options.priority = priority;
    return this;
  }
  queue(queue: string): this {
    this.options.queue = queue;
    return this;
  }
  delay(delay: DurationInput): this {
    this.options.delay = delay;
    return this;
  }
  eta(eta: Date | number): this {
    this.options.eta = eta;
    return this;
  }
  taskId(id: string): this {
    this.options.taskId = id;
    return this;
  }
  /** Adds a task to start once this one succeeds (see `EnqueueOptions.link`). */
  link(call: LinkedCall): this {
    this.options.link = [...listOf(this.options.link), call];
    return this;
  }
  /** Adds a task to start once this one fails for good (see `EnqueueOptions.linkError`). */
  linkError(call: LinkedCall): this {
    this.options.linkError = [...listOf(this.options.linkError), call];
    return this;
  }
  /** The call as built so far. */
  build(): TaskCall {
    return { name: this.base.name, args: this.base.args, options: { ...this.options } };
  }
  enqueueWith(enqueuer: Enqueuer): Promise<string> {
    return enqueuer.enqueue(this.base.name, this.base.args, this.build().options);
  }
}

function listOf(value: LinkedCall | LinkedCall[] | undefined): LinkedCall[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
