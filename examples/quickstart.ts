/**
 * Quick start: the EmailTask program from the product overview, in TypeScript.
 * A class-style task, an in-memory client, one worker, one enqueue, one result.
 *
 *   bun examples/quickstart.ts   →   Result: sent to hello@example.com
 */
import { StemClient, type TaskContext, type TaskHandler } from "../src/index.ts";

class EmailTask implements TaskHandler<{ to: string }, string> {
  readonly name = "email.send";
  async run(_ctx: TaskContext<{ to: string }>, args: { to: string }): Promise<string> {
    return `sent to ${args.to}`;
  }
}

const client = await StemClient.inMemory({ tasks: [new EmailTask()] });
const worker = client.createWorker();
await worker.start();

const taskId = await client.stem.enqueue("email.send", { to: "hello@example.com" });
const result = await client.stem.waitForTask<string>(taskId);
console.log(`Result: ${result.value}`);

await worker.shutdown();
await client.close();
