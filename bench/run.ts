/**
 * `npm run bench [-- --adapter sqlite] [--tasks 20000]`: runs the workload and prints JSON.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runStemWorkload } from "./stem-workload.ts";

const { values } = parseArgs({
  options: {
    adapter: { type: "string", default: "sqlite" },
    tasks: { type: "string", default: "20000" },
    latency: { type: "string", default: "1000" },
  },
});
const tasks = Number(values.tasks);
const adapters = values.adapter === "all" ? ["sqlite"] : values.adapter!.split(",");
const results: Record<string, unknown> = {};

for (const adapter of adapters) {
  if (adapter === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "stem-bench-"));
    let n = 0;
    let url = "";
    results.sqlite = await runStemWorkload({
      get url() {
        return url;
      },
      tasks,
      concurrencies: [1, 10, 100],
      latencySamples: Number(values.latency),
      reset: async () => {
        url = `sqlite://${join(dir, `bench-${++n}.db`)}`;
      },
    });
    rmSync(dir, { recursive: true, force: true });
  } else {
    throw new Error(`unknown adapter "${adapter}" (sqlite)`);
  }
}
process.stdout.write(`${JSON.stringify({ tasks, machine: { cpus: navigator.hardwareConcurrency }, results }, null, 2)}\n`);
