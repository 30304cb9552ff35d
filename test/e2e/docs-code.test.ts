/**
 * The manual's code stays true: every ```ts block marked `runnable` in README.md and docs/
 * runs to completion (exit 0) with Bun, and every block marked `typecheck` type-checks
 * (strict). The blocks are written into a scratch folder inside the repository, so that
 * `import ... from "stem"` resolves to this checkout as it does for a user of the package.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const SCRATCH = join(ROOT, ".docs-code");

interface Block {
  file: string;
  line: number;
  mode: "runnable" | "typecheck";
  code: string;
}

function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```ts (runnable|typecheck)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf("```", i + 1);
    if (end < 0) throw new Error(`${file}:${i + 1}: a code block that never closes`);
    blocks.push({
      file,
      line: i + 1,
      mode: open[1] as Block["mode"],
      code: lines.slice(i + 1, end).join("\n"),
    });
    i = end;
  }
  return blocks;
}

const BLOCKS = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
].flatMap(blocksOf);

/** Where a block is written: named after the page and line, in its own folder (its own .stem/). */
function scratchFile(block: Block): string {
  const dir = join(SCRATCH, `${block.file.replaceAll("/", "_")}_${block.line}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "block.ts");
  writeFileSync(path, `${block.code}\n`);
  return path;
}

beforeAll(() => rmSync(SCRATCH, { recursive: true, force: true }));
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

describe("code in the manual", () => {
  test("the manual marks code to check", () => {
    expect(BLOCKS.filter((b) => b.mode === "runnable").length).toBeGreaterThanOrEqual(3);
    expect(BLOCKS.some((b) => b.mode === "typecheck")).toBe(true);
  });

  for (const block of BLOCKS.filter((b) => b.mode === "runnable")) {
    test(`${block.file}:${block.line} runs`, async () => {
      const path = scratchFile(block);
      const proc = Bun.spawn([process.execPath, path], {
        cwd: join(path, ".."),
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, STEM_LOG_LEVEL: "warn" },
      });
      const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
      const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      clearTimeout(timer);
      expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
    }, 40_000);
  }

  test("the blocks marked typecheck type-check (strict)", async () => {
    const files = BLOCKS.filter((b) => b.mode === "typecheck").map(scratchFile);
    const config = join(SCRATCH, "tsconfig.json");
    writeFileSync(
      config,
      JSON.stringify({
        extends: "../tsconfig.json",
        include: files.map((f) => f.slice(SCRATCH.length + 1)),
      }),
    );
    const proc = Bun.spawn([join(ROOT, "node_modules/.bin/tsc"), "--noEmit", "-p", config], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, stdout] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
    expect({ code, errors: stdout }).toEqual({ code: 0, errors: "" });
  }, 120_000);
});
