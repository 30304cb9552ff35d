/**
 * Task callbacks (Celery's `link` / `link_error`): `charge` names a task to start when it
 * succeeds (`receipt`, which gets the charge's result in `args.charge` and as
 * `ctx.previousResult`) and one to start when it fails for good (`alert`, which gets
 * `args.failure`: the failed task's id, name and error). Workers start each callback
 * exactly once; the producer may exit right after enqueueing.
 *
 *   bun examples/callbacks.ts
 *   →  receipt: emailed a@example.com a receipt for 1200 cents (charge ch_4242)
 *      alert: paging billing: demo.charge failed after its retries: card 4000-0002 declined
 */
import { defineTask, FixedRetryStrategy, StemClient, task } from "../src/index.ts";

const charge = defineTask<{ card: string; cents: number }>({
  name: "demo.charge",
  options: { maxRetries: 2 },
  run: (_ctx, { card, cents }) => {
    if (card.endsWith("0002")) throw new Error(`card ${card} declined`);
    return { chargeId: `ch_${card.slice(-4)}`, cents };
  },
});

const receipt = defineTask<{ to: string; charge: { chargeId: string; cents: number } }>({
  name: "demo.receipt",
  run: (_ctx, { to, charge }) =>
    `emailed ${to} a receipt for ${charge.cents} cents (charge ${charge.chargeId})`,
});

const alert = defineTask<{ team: string; failure: { name: string; error: { message: string } } }>({
  name: "demo.alert",
  run: (_ctx, { team, failure }) =>
    `paging ${team}: ${failure.name} failed after its retries: ${failure.error.message}`,
});

const client = await StemClient.inMemory({ tasks: [charge, receipt, alert] });
const worker = client.createWorker({ retryStrategy: new FixedRetryStrategy("50ms") });
await worker.start();

// Each callback is a task call; `previousAs` passes the result in an arg, as in a chain.
// The error callback gets `args.failure` added to its own args.
const callbacks = {
  link: task("demo.receipt", { to: "a@example.com" }, { previousAs: "charge" }),
  linkError: task("demo.alert", { team: "billing" }),
};
const paid = await charge.enqueue(client, { card: "4000-4242", cents: 1200 }, callbacks);
const declined = await charge.enqueue(client, { card: "4000-0002", cents: 900 }, callbacks);

// Callback ids are derived from the task's: <id>:link:N and <id>:link-error:N.
const sent = await client.waitForTask<string>(`${paid}:link:0`, { timeout: 10_000 });
console.log(`receipt: ${sent.value}`);
const paged = await client.waitForTask<string>(`${declined}:link-error:0`, { timeout: 10_000 });
console.log(`alert: ${paged.value}`);

await worker.shutdown();
await client.close();
