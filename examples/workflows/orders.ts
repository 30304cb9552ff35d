/**
 * The order workflow from the product documents, as a WorkflowScript: charge the
 * customer, poll the shipment until it ships (a durable sleep between polls), then email
 * the receipt. Runs on the embedded default store (./.stem/stem.db): every step is
 * checkpointed there, so a run survives restarts of this program or its workers.
 *
 *   bun examples/workflows/orders.ts
 *
 * Set POLL_INTERVAL (default 1s; the documents use 30s) to change the pause between polls.
 */
import { StemWorkflowApp, WorkflowScript } from "../../src/index.ts";

const pollInterval = process.env.POLL_INTERVAL ?? "1s";

// Stand-ins for the services an order touches.
interface Checkout {
  id: string;
  userId: string;
  amount: number;
}
async function chargeCustomer(userId: string): Promise<Checkout> {
  return { id: `order-${userId}-${Date.now()}`, userId, amount: 42 };
}
const shipmentChecks = new Map<string, number>();
async function fetchShipment(orderId: string): Promise<{ isComplete: boolean; value: string }> {
  const checks = (shipmentChecks.get(orderId) ?? 0) + 1;
  shipmentChecks.set(orderId, checks);
  return { isComplete: checks >= 3, value: `tracking TRK-${orderId.slice(-6)}` };
}
async function sendReceiptEmail(checkout: Checkout): Promise<void> {
  console.log(`  receipt emailed for ${checkout.id} (${checkout.amount} EUR)`);
}

export const ordersWorkflow = WorkflowScript<{ userId: string }>({
  name: "orders.workflow",
  run: async (script) => {
    const checkout = await script.step("checkout", async (step) => {
      // A stable key, so a replayed charge is recognised by the payment provider.
      console.log(
        `  charging ${step.params.userId} (idempotency key ${step.idempotencyKey("charge")})`,
      );
      return chargeCustomer(step.params.userId);
    });

    const tracking = await script.step(
      "poll-shipment",
      async (step) => {
        const resume = step.takeResumeData();
        if (resume !== true) {
          await step.sleep(pollInterval);
          return "waiting";
        }
        const status = await fetchShipment(checkout.id);
        console.log(`  shipment of ${checkout.id}: ${status.isComplete ? "shipped" : "not yet"}`);
        if (!status.isComplete) {
          await step.sleep(pollInterval);
          return "waiting";
        }
        return status.value;
      },
      { autoVersion: true },
    );

    const receipt = await script.step("notify", async () => {
      await sendReceiptEmail(checkout);
      return "emailed";
    });
    return { orderId: checkout.id, tracking, receipt };
  },
});

const app = await StemWorkflowApp.create({
  scripts: [ordersWorkflow],
  workflow: { pollInterval: "200ms" },
});
try {
  const runId = await app.startWorkflow("orders.workflow", { params: { userId: "42" } });
  console.log(`started run ${runId}`);
  const run = await app.waitForCompletion(runId, { timeout: "2m" });
  console.log(`run ${run.status}:`, run.result);
  for (const step of (await app.describeRun(runId)).steps) {
    console.log(`  checkpoint ${step.name} = ${JSON.stringify(step.value)}`);
  }
} finally {
  await app.shutdown();
}
