import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineTask, StemApp, StemClient } from "../../src/index.ts";

const answer = defineTask({ name: "app.answer", run: () => 42 });

describe("bootstraps", () => {
  test("StemApp.inMemory starts its own worker: enqueue and wait in one process", async () => {
    const app = await StemApp.inMemory({ tasks: [answer] });
    try {
      const id = await app.enqueue("app.answer");
      expect((await app.waitForTask(id, { timeout: 3000 })).value).toBe(42);
      expect(app.worker.stats().processed).toBe(1);
    } finally {
      await app.close();
    }
  });

  test("StemApp.fromUrl runs on a SQLite file that a separate client can read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stem-app-"));
    const url = `sqlite://${join(dir, "stem.db")}`;
    const app = await StemApp.fromUrl(url, { tasks: [answer] });
    const reader = await StemClient.fromUrl(url);
    try {
      const id = await app.enqueue("app.answer");
      expect((await reader.waitForTask(id, { timeout: 5000 })).value).toBe(42);
    } finally {
      await app.close();
      await reader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a StemClient has no worker until one is created", async () => {
    const client = await StemClient.inMemory({ tasks: [answer] });
    try {
      const id = await client.enqueue("app.answer");
      expect((await client.getTaskStatus(id))?.state).toBe("queued");
    } finally {
      await client.close();
    }
  });
});
