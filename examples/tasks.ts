/**
 * A task module for the `stem` binary:
 *
 *   npm run build
 *   dist/stem worker --tasks examples/tasks.ts
 *   dist/stem enqueue email.send --args '{"to":"hello@example.com"}' --wait
 *   dist/stem enqueue reports.build --args '{"pages":5}' --wait
 *   dist/stem enqueue demo.flaky --wait        # fails twice, then succeeds
 *
 * `import ... from "stem"` resolves to the binary's own copy, so this file needs no
 * node_modules next to it.
 */
import { defineTask } from "stem";

export const sendEmail = defineTask<{ to: string }, string>({
  name: "email.send",
  options: { queue: "default", maxRetries: 3, rateLimit: "100/s" },
  metadata: { description: "Sends one email" },
  run: (_ctx, { to }) => `sent to ${to}`,
});

export const buildReport = defineTask<{ pages: number }, { pages: number }>({
  name: "reports.build",
  options: { softTimeLimit: "30s", hardTimeLimit: "1m" },
  metadata: { description: "Builds a report, reporting progress per page" },
  run: async (ctx, { pages }) => {
    for (let page = 1; page <= pages; page++) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await Bun.sleep(100);
      await ctx.progress(Math.round((page / pages) * 100), { page });
    }
    return { pages };
  },
});

export const flaky = defineTask({
  name: "demo.flaky",
  options: { maxRetries: 2, retryBackoff: { kind: "fixed", delay: "500ms" } },
  metadata: { description: "Fails on its first two attempts" },
  run: (ctx) => {
    if (ctx.attempt < 3) throw new Error(`simulated failure on attempt ${ctx.attempt}`);
    return `succeeded on attempt ${ctx.attempt}`;
  },
});
