/** examples/global-concurrency.ts runs as its header says, in memory and on a SQLite file. */
import { expect, test } from "bun:test";
import { runExample } from "../fixtures/examples.ts";
import { openTestStore } from "./fixtures/test-stores.ts";

for (const kind of ["memory", "sqlite"] as const) {
  test(`examples/global-concurrency.ts on ${kind}`, async () => {
    const store = await openTestStore(kind, "gcexample");
    try {
      const args = kind === "memory" ? [] : [store.url];
      const { code, stdout, stderr } = await runExample("global-concurrency.ts", args);
      expect(code, stderr).toBe(0);
      for (let n = 0; n < 8; n++) expect(stdout).toContain(`report ${n} rendered`);
      expect(stdout).toContain("at most 2 renders ran at once");
    } finally {
      await store.cleanup();
    }
  }, 60_000);
}
