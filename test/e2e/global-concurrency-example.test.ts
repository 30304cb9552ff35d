/** examples/global-concurrency.ts runs as its header says, in memory and on a SQLite file. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { openTestStore } from "./fixtures/test-stores.ts";

const EXAMPLE = join(import.meta.dir, "../../examples/global-concurrency.ts");

for (const kind of ["memory", "sqlite"] as const) {
  test(`examples/global-concurrency.ts on ${kind}`, async () => {
    const store = await openTestStore(kind, "gcexample");
    try {
      const args = kind === "memory" ? [] : [store.url];
      const proc = Bun.spawn([process.execPath, EXAMPLE, ...args], {
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, STEM_LOG_LEVEL: "warn" },
      });
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      expect(code, stderr).toBe(0);
      for (let n = 0; n < 8; n++) expect(stdout).toContain(`report ${n} rendered`);
      expect(stdout).toContain("at most 2 renders ran at once");
    } finally {
      await store.cleanup();
    }
  }, 60_000);
}
