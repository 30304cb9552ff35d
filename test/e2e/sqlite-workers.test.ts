import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { workerProcessScenarios } from "./worker-processes.ts";

workerProcessScenarios("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "stem-sqlite-e2e-"));
  return {
    url: `sqlite://${join(dir, "stem.db")}`,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
