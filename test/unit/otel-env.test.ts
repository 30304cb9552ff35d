import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { StemError } from "../../src/core/errors.ts";
import { telemetryRequested } from "../../src/observability/telemetry.ts";

const dir = mkdtempSync(join(tmpdir(), "stem-otel-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const src = resolve(import.meta.dir, "../../src");
const script = join(dir, "run-one-task.ts");
writeFileSync(
  script,
  `import { defineTask, StemClient } from ${JSON.stringify(join(src, "index.ts"))};
import { currentInstrumentation } from ${JSON.stringify(join(src, "observability/instrumentation.ts"))};
const task = defineTask({ name: "env.task", run: () => "done" });
const client = await StemClient.inMemory({ tasks: [task] });
await client.createWorker().start();
const id = await client.enqueue("env.task", {});
const result = await client.waitForTask(id, { timeout: "10s" });
const during = currentInstrumentation() !== undefined;
await client.close();
const loaded = Object.keys(require.cache).filter((path) => path.includes("@opentelemetry")).length;
process.stderr.write("RESULT " + JSON.stringify({ state: result.state, during, after: currentInstrumentation() !== undefined, loaded }) + "\\n");
`,
);

/** Runs the script with only the given OTEL/STEM variables set. */
async function run(env: Record<string, string>) {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("OTEL_") && !k.startsWith("STEM_")) base[k] = v;
  }
  const proc = Bun.spawn([process.execPath, script], {
    env: { ...base, STEM_LOG_LEVEL: "warn", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const line = stderr.split("\n").find((l) => l.startsWith("RESULT "));
  if (code !== 0 || !line) throw new Error(`script failed (exit ${code}): ${stderr}`);
  return {
    stdout,
    result: JSON.parse(line.slice(7)) as {
      state: string;
      during: boolean;
      after: boolean;
      loaded: number;
    },
  };
}

describe("telemetry from the environment", () => {
  test("off by default: no OpenTelemetry module is loaded and nothing is instrumented", async () => {
    const { result } = await run({});
    expect(result).toEqual({ state: "succeeded", during: false, after: false, loaded: 0 });
  });

  test("STEM_OTEL=1 starts it with the OTEL_* exporters; the last client closed flushes and stops it", async () => {
    const { stdout, result } = await run({
      STEM_OTEL: "1",
      OTEL_TRACES_EXPORTER: "console",
      OTEL_METRICS_EXPORTER: "none",
    });
    expect(result.state).toBe("succeeded");
    expect(result.during).toBe(true);
    expect(result.after).toBe(false);
    expect(result.loaded).toBeGreaterThan(0);
    // The console exporter printed both spans, flushed at close.
    expect(stdout).toContain('name: "stem.enqueue"');
    expect(stdout).toContain('name: "stem.execute env.task"');
    expect(stdout).toContain('"service.name": "stem"');
  });

  test("STEM_OTEL=0 wins over an OTLP endpoint", async () => {
    const { result } = await run({
      STEM_OTEL: "0",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1",
    });
    expect(result).toMatchObject({ during: false, loaded: 0 });
  });

  test("what counts as a request", () => {
    expect(telemetryRequested({})).toBe(false);
    expect(telemetryRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(true);
    expect(
      telemetryRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" }),
    ).toBe(true);
    expect(telemetryRequested({ STEM_OTEL: "true" })).toBe(true);
    expect(telemetryRequested({ STEM_OTEL: "1", OTEL_SDK_DISABLED: "true" })).toBe(false);
    expect(() => telemetryRequested({ STEM_OTEL: "yes please" })).toThrow(StemError);
    expect(() => telemetryRequested({ STEM_OTEL: "yes please" })).toThrow(
      /STEM_OTEL must be 1 or 0/,
    );
  });
});
