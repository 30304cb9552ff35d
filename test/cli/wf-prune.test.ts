/**
 * `stem wf prune` and kept events through the built binary, on the embedded default store
 * of a temporary folder. Old runs are written beforehand through the library with a fake
 * clock set days back, as if they had finished then.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { ensureBinary, stem, workspace } from "./binary.ts";

const DAY = 86_400_000;

/** Creates runs in the folder's store at `at`: each finished as asked, or left running. */
async function runsAt(dir: string, at: number, ends: ("completed" | "failed" | "running")[]) {
  const connection = await openSqlite(`sqlite://${join(dir, ".stem", "stem.db")}`, {
    clock: new FakeClock(at),
  });
  try {
    const store = connection.workflowStore();
    const ids: string[] = [];
    for (const end of ends) {
      const id = await store.createRun({ workflow: "cli.prune" });
      await store.saveStep(id, "only", 1);
      if (end === "completed") await store.markCompleted(id, "done");
      if (end === "failed") await store.markFailed(id, { message: "boom" }, { terminal: true });
      ids.push(id);
    }
    return ids;
  } finally {
    await connection.close();
  }
}

describe("stem wf prune", () => {
  let ws: ReturnType<typeof workspace>;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace();
    mkdirSync(join(ws.dir, ".stem"));
  }, 90_000);

  afterAll(() => ws?.cleanup());

  test("deletes only finished runs older than --older-than; --dry-run only counts; --json for scripts", async () => {
    const [oldDone, oldFailed, oldRunning] = await runsAt(ws.dir, Date.now() - 10 * DAY, [
      "completed",
      "failed",
      "running",
    ]);
    const [recent] = await runsAt(ws.dir, Date.now() - DAY, ["completed"]);

    const dry = await stem(ws.dir, ["wf", "prune", "--older-than", "7d", "--dry-run", "--json"]);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({ count: 2, dryRun: true, olderThanMs: 7 * DAY });
    const dryText = await stem(ws.dir, ["wf", "prune", "--older-than", "7d", "--dry-run"]);
    expect(dryText.stdout).toContain("would prune 2 finished run(s) not updated for 7d");

    const pruned = await stem(ws.dir, ["wf", "prune", "--older-than", "7d"]);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain("pruned 2 finished run(s) not updated for 7d");
    const listed = await stem(ws.dir, ["wf", "list", "--json"]);
    const ids = (JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id).sort();
    expect(ids).toEqual([oldRunning, recent].sort());
    const gone = await stem(ws.dir, ["wf", "show", oldDone]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`workflow run ${oldDone} not found`);
    expect((await stem(ws.dir, ["wf", "show", oldFailed])).code).toBe(1);

    const again = await stem(ws.dir, ["wf", "prune", "--older-than", "7d", "--json"]);
    expect(JSON.parse(again.stdout).count).toBe(0);
  }, 60_000);

  test("a bad or missing --older-than is a usage error", async () => {
    const bad = await stem(ws.dir, ["wf", "prune", "--older-than", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--older-than");
    expect(bad.stderr).not.toContain("    at ");
    const missing = await stem(ws.dir, ["wf", "prune"]);
    expect(missing.code).toBe(2);
    expect((await stem(ws.dir, ["wf", "prune", "--help"])).stdout).toContain("--dry-run");
  });

  test("wf emit says when an event nobody waits for is kept, and --keep 0 does not keep it", async () => {
    const kept = await stem(ws.dir, ["wf", "emit", "cli.kept", "--payload", "1"]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain("no run is waiting on cli.kept; the event is kept for 1d");
    const json = await stem(ws.dir, ["wf", "emit", "cli.kept", "--keep", "1h", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ topic: "cli.kept", resumed: [], kept: true });
    const unkept = await stem(ws.dir, ["wf", "emit", "cli.kept", "--keep", "0", "--json"]);
    expect(JSON.parse(unkept.stdout).kept).toBe(false);
    const bad = await stem(ws.dir, ["wf", "emit", "cli.kept", "--keep", "forever"]);
    expect(bad.code).toBe(2);
  });
});
