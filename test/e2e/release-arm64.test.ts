/**
 * The release binaries: `npm run release` builds the linux-arm64 one with its checksum,
 * and that binary, run under qemu-user as on an arm64 machine, prints its version and
 * runs a task end to end on the embedded SQLite default (a worker and `enqueue --wait`).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { release } from "../../release.ts";
import { runIn, startStem, TASKS_TS, workspace } from "../cli/binary.ts";
import { qemuArm64 } from "./fixtures/qemu-arm64.ts";

let out: string;
let binary: string;
let qemu: string[];
let ws: ReturnType<typeof workspace>;

beforeAll(async () => {
  qemu = await qemuArm64();
  out = mkdtempSync(join(tmpdir(), "stem-release-"));
  [binary] = await release(["linux-arm64"], out);
  ws = workspace({ "tasks.ts": TASKS_TS });
}, 180_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  ws?.cleanup();
});

describe("the linux-arm64 release binary", () => {
  test("is named by version and platform, and SHA256SUMS holds its checksum", () => {
    expect(basename(binary)).toBe(`stem-${pkg.version}-linux-arm64`);
    const sum = createHash("sha256").update(readFileSync(binary)).digest("hex");
    expect(readFileSync(join(out, "SHA256SUMS"), "utf8")).toBe(`${sum}  ${basename(binary)}\n`);
  });

  test("runs under qemu: --version names the version, commit and platform", async () => {
    const result = await runIn(ws.dir, [...qemu, binary, "--version"], {}, 60_000);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^${pkg.version.replaceAll(".", "\\.")} \\(commit [0-9a-f]+, linux-arm64\\)\\n$`),
    );
  }, 60_000);

  test("runs under qemu: a worker and enqueue --wait round-trip a task on the embedded default", async () => {
    const worker = await startStem(ws.dir, ["worker", "--tasks", "./tasks.ts"], {}, 90_000, [
      ...qemu,
      binary,
    ]);
    try {
      const result = await runIn(
        ws.dir,
        [
          ...qemu,
          binary,
          "enqueue",
          "demo.hello",
          "--tasks",
          "./tasks.ts",
          "--args",
          '{"name":"arm"}',
          "--wait",
        ],
        {},
        90_000,
      );
      expect(result.stderr).not.toContain("error");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("hello arm");
    } finally {
      worker.proc.kill("SIGTERM");
      expect(await worker.proc.exited).toBe(0);
    }
  }, 180_000);
});
