/**
 * Keyed and group rate limits. `report.build` allows 2 per second *per tenant*
 * (`rateLimitKey: "args.tenant"`): a busy tenant waits for its own tokens while another
 * tenant's reports run at once. `mail.welcome` and `mail.digest` share one `5/s` bucket
 * (`rateLimitGroup: "smtp"`), the rate of the mail server they both use. A task waiting
 * for a token waits in the broker, not in the worker. Runs in memory; with a store URL as
 * the first argument it runs there instead.
 *
 *   bun examples/tenant-rate-limit.ts [redis://127.0.0.1:6379]
 *   →  0.0 s  report acme #1
 *      0.0 s  report globex #1
 *      0.0 s  mail.welcome
 *      0.2 s  mail.digest
 *      0.5 s  report globex #2
 *      0.5 s  report acme #2
 *      1.0 s  report acme #3
 *      1.5 s  report acme #4
 */
import { defineTask, StemClient } from "../src/index.ts";

const started = Date.now();
const log = (what: string) =>
  console.log(`${((Date.now() - started) / 1000).toFixed(1)} s  ${what}`);

const report = defineTask<{ tenant: string; n: number }>({
  name: "report.build",
  options: { rateLimit: "2/s", rateLimitKey: "args.tenant" },
  run: (_ctx, { tenant, n }) => log(`report ${tenant} #${n}`),
});
// Both declare the group's one rate; registering them with different rates is an error.
const smtp = { rateLimit: "5/s", rateLimitGroup: "smtp" };
const welcome = defineTask({ name: "mail.welcome", options: smtp, run: () => log("mail.welcome") });
const digest = defineTask({ name: "mail.digest", options: smtp, run: () => log("mail.digest") });

const url = process.argv[2];
const options = { tasks: [report, welcome, digest] };
const client = url ? await StemClient.fromUrl(url, options) : await StemClient.inMemory(options);
const ids = await client.stem.enqueueMany([
  ...[1, 2, 3, 4].map((n) => ({ name: "report.build", args: { tenant: "acme", n } })),
  ...[1, 2].map((n) => ({ name: "report.build", args: { tenant: "globex", n } })),
  { name: "mail.welcome", args: {} },
  { name: "mail.digest", args: {} },
]);
const worker = client.createWorker({ concurrency: 4, prefetch: 8 });
await worker.start();
for (const id of ids) await client.waitForTask(id, { timeout: 10_000 });
await worker.shutdown();
await client.close();
