import type { Enqueuer, TaskCall } from "../core/definition.ts";
import type { EnqueueOptions } from "../core/enqueue-options.ts";
import { uuidv7 } from "../core/uuid.ts";

/** One enqueue recorded by FakeStem. */
export interface RecordedEnqueue {
  id: string;
  name: string;
  args: Record<string, unknown>;
  options: EnqueueOptions;
}

/**
 * Records enqueues instead of sending them, for users' unit tests:
 * `const fake = new FakeStem(); await fake.enqueue("email.send", { to }); fake.enqueues[0].name`.
 */
export class FakeStem implements Enqueuer {
  readonly enqueues: RecordedEnqueue[] = [];

  async enqueue(
    name: string,
    args: Record<string, unknown> = {},
    options: EnqueueOptions = {},
  ): Promise<string> {
    const id = options.taskId ?? uuidv7();
    this.enqueues.push({ id, name, args, options });
    return id;
  }

  enqueueCall(call: TaskCall): Promise<string> {
    return this.enqueue(call.name, call.args, call.options);
  }

  /** Recorded enqueues of one task. */
  enqueuesOf(name: string): RecordedEnqueue[] {
    return this.enqueues.filter((e) => e.name === name);
  }

  clear(): void {
    this.enqueues.length = 0;
  }
}
