/**
 * Awaited events and cancellation policies: an order waits for a manager's approval
 * (an event on "orders.approved"), and a WorkflowCancellationPolicy cancels a second
 * order whose approval never comes. Runs on the embedded default store.
 *
 *   bun examples/workflows/approval.ts
 *
 * From another terminal, the same event can come from the CLI while a run waits:
 *   stem wf list --status suspended
 *   stem wf emit orders.approved --payload '{"by": "ops"}'
 */
import { StemWorkflowApp, WorkflowScript } from "../../src/index.ts";

export const approval = WorkflowScript<{ orderId: string }>({
  name: "orders.approval",
  run: async (script) => {
    const order = await script.step("submit", (step) => ({
      id: step.params.orderId,
      submittedAt: Date.now(),
    }));
    // Suspends the run until an event arrives; the step then runs again and gets the payload.
    const decision = await script.step("approval", (step) =>
      step.awaitEvent<{ by: string }>("orders.approved"),
    );
    return script.step("fulfil", () => `${order.id} approved by ${decision.by}`);
  },
});

const app = await StemWorkflowApp.create({
  scripts: [approval],
  workflow: { pollInterval: "100ms" },
});
try {
  const approved = await app.startWorkflow("orders.approval", { params: { orderId: "A-100" } });
  const abandoned = await app.startWorkflow("orders.approval", {
    params: { orderId: "A-101" },
    cancellationPolicy: { maxSuspendDuration: "1s" },
  });
  // Wait until both runs are suspended on the topic, then deliver one approval.
  while ((await app.runtime.store.runsWaitingOn("orders.approved")).length < 2) await Bun.sleep(50);
  console.log(
    "waiting on orders.approved:",
    await app.runtime.store.runsWaitingOn("orders.approved"),
  );

  // The policy cancels A-101 once it has waited a second; the event then reaches A-100 only.
  await Bun.sleep(1500);
  console.log("resumed by the event:", await app.emit("orders.approved", { by: "manager" }));

  console.log((await app.waitForCompletion(approved, { timeout: "30s" })).result);
  const cancelled = await app.waitForCompletion(abandoned, { timeout: "30s" });
  console.log(`A-101 ${cancelled.status}: ${cancelled.cancellationData?.reason}`);
} finally {
  await app.shutdown();
}
