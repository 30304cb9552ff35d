/**
 * The poll-shipment loop: a Flow whose middle step polls a carrier until the parcel is
 * delivered, waiting between polls with a durable sleep (its wake time is stored, so the
 * loop keeps its place across restarts). The step runs from the top at each wake-up:
 * its first `sleep` is then the one just finished and returns at once, so the poll runs;
 * when the parcel is not delivered yet, the second `sleep` suspends the run again.
 *
 *   bun examples/workflows/poll-shipment.ts
 */
import { Flow, StemWorkflowApp } from "../../src/index.ts";

// A carrier whose parcel moves one status further at each poll.
const STATUSES = ["label created", "in transit", "out for delivery", "delivered"];
const polls = new Map<string, number>();
function carrierStatus(parcel: string): string {
  const n = polls.get(parcel) ?? 0;
  polls.set(parcel, n + 1);
  return STATUSES[Math.min(n, STATUSES.length - 1)];
}

export const shipmentFlow = Flow<{ parcel: string }>({
  name: "shipments.track",
  build(flow) {
    flow.step("register", (step) => ({
      parcel: step.params.parcel,
      since: new Date().toISOString(),
    }));

    flow.step("poll-shipment", async (step) => {
      await step.sleep("500ms");
      const status = carrierStatus(step.params.parcel);
      console.log(`  ${step.params.parcel}: ${status}`);
      if (status !== "delivered") await step.sleep("500ms");
      return { status, checkedAt: new Date().toISOString() };
    });

    flow.step("close", (step) => ({ closed: true, delivery: step.previousResult }));
  },
});

const app = await StemWorkflowApp.create({
  flows: [shipmentFlow],
  workflow: { pollInterval: "100ms" },
});
try {
  const runId = await app.startWorkflow("shipments.track", { params: { parcel: "PARCEL-7" } });
  console.log(`tracking run ${runId}`);
  const run = await app.waitForCompletion(runId, { timeout: "1m" });
  console.log(`run ${run.status}:`, JSON.stringify(run.result));
} finally {
  await app.shutdown();
}
