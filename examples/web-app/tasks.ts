// The worker's side of examples/web-app: `stem worker --tasks examples/web-app/tasks.ts`.
import { defineTask } from "stem";

export const buildReport = defineTask<{ customer: string }, { customer: string; rows: number }>({
  name: "reports.build",
  run: async (ctx, { customer }) => {
    await ctx.progress(50, { step: "querying" });
    return { customer, rows: customer.length * 100 };
  },
});
