/**
 * Middleware around enqueue and execution: a tenant header added at enqueue and required
 * on every task, and a timing log around every handler. A task enqueued without a tenant
 * is refused at enqueue (a worker would fail one that arrived without it, naming the
 * middleware, e.g. enqueued by another producer).
 *
 *   bun examples/middleware.ts
 */
import { defineTask, StemApp } from "../src/index.ts";

const report = defineTask<{ month: string }, string>({
  name: "reports.build",
  run: (ctx, { month }) => `report for ${month} (tenant ${ctx.headers.tenant})`,
});

const app = await StemApp.inMemory({ tasks: [report] });
app
  .use({
    name: "tenant",
    async enqueue(envelope, next) {
      const tenant = envelope.headers.tenant ?? (envelope.args.tenant as string | undefined);
      if (!tenant) throw new Error(`${envelope.name} needs a tenant`);
      await next({ ...envelope, headers: { ...envelope.headers, tenant } });
    },
    async execute(ctx, next) {
      if (!ctx.headers.tenant) throw new Error("no tenant header");
      return next();
    },
  })
  .use({
    name: "timing",
    async execute(ctx, next) {
      const started = performance.now();
      try {
        return await next();
      } finally {
        console.log(`${ctx.name} ${ctx.id} took ${(performance.now() - started).toFixed(2)} ms`);
      }
    },
  });

const id = await app.enqueue(
  "reports.build",
  { month: "2026-11" },
  { headers: { tenant: "acme" } },
);
console.log((await app.waitForTask(id)).value);

await app
  .enqueue("reports.build", { month: "2026-12" })
  .catch((error) => console.log(`refused: ${error.message}`));

await app.close();
