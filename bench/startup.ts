/**
 * `npm run bench -- --suite startup [--rounds 21]`: how long `dist/stem` takes to start
 * and finish, next to a bare Bun executable built in the same run (the floor), against
 * the targets of issue #21: --version and --help under 20 ms, an enqueue on the embedded
 * SQLite default under 40 ms end to end. Medians of `rounds` runs. Build dist/stem first.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const BINARY = resolve(import.meta.dir, "../dist/stem");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median wall time of running `command` in `cwd`, in ms; a failing run is an error. */
function timeRuns(command: string[], cwd: string, rounds: number): number {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const result = Bun.spawnSync(command, { cwd, stdout: "ignore", stderr: "pipe" });
    times.push(performance.now() - start);
    if (result.exitCode !== 0)
      throw new Error(`${command.join(" ")} exited ${result.exitCode}: ${result.stderr}`);
  }
  return Math.round(median(times) * 10) / 10;
}

export async function runStartupSuite(rounds: number) {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), "stem-bench-startup-"));
  try {
    writeFileSync(join(dir, "hello.ts"), 'console.log("hello");\n');
    const built = await Bun.build({
      entrypoints: [join(dir, "hello.ts")],
      compile: { outfile: join(dir, "hello") },
    });
    if (!built.success) throw new Error("could not build the bare Bun executable");
    const floor = timeRuns([join(dir, "hello")], dir, rounds);
    const line = (name: string, command: string[], limitMs: number) => {
      const ms = timeRuns(command, dir, rounds);
      return { name, ms, limitMs, bareBunMs: floor, met: ms < limitMs };
    };
    return {
      suite: "startup",
      rounds,
      results: [
        line("stem --version", [BINARY, "--version"], 20),
        line("stem --help", [BINARY, "--help"], 20),
        line("stem enqueue (embedded SQLite)", [BINARY, "enqueue", "bench.noop"], 40),
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
