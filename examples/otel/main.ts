/**
 * OpenTelemetry: spans for every enqueue and task run, linked into one trace from the
 * producer through the worker to the tasks a handler enqueues, plus Stem's metrics.
 *
 *   bun examples/otel/main.ts
 *       no collector needed: spans and metrics are printed to the console
 *
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 bun examples/otel/main.ts
 *       sends them to an OpenTelemetry collector (OTLP over HTTP); see README.md
 */
import { ConsoleMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { defineTask, StemClient, startTelemetry, type TelemetryOptions } from "../../src/index.ts";

const toCollector = Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT);
// With an endpoint, the OTEL_* variables pick the exporters; without one, print to the console.
const options: TelemetryOptions = toCollector
  ? { serviceName: "stem-otel-example" }
  : {
      serviceName: "stem-otel-example",
      spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
      metricReaders: [
        new PeriodicExportingMetricReader({
          exporter: new ConsoleMetricExporter(),
          exportIntervalMillis: 60_000,
        }),
      ],
    };
// Start telemetry before creating clients and workers.
const telemetry = await startTelemetry(options);

const resize = defineTask<{ image: string }, string>({
  name: "images.resize",
  run: (_ctx, { image }) => `${image} resized`,
});
const upload = defineTask<{ image: string }, string>({
  name: "images.upload",
  // A child task: its enqueue span is a child of this execution span.
  run: async (ctx, { image }) => {
    const child = await ctx.enqueue("images.resize", { image });
    return `uploaded ${image}, resize task ${child}`;
  },
});

const client = await StemClient.inMemory({ tasks: [upload, resize] });
await client.createWorker().start();

const id = await client.enqueue("images.upload", { image: "cat.png" });
const result = await client.waitForTask<string>(id);
const childId = result.value!.split(" ").at(-1)!;
await client.waitForTask(childId);
console.error(`result: ${result.value}`);

await client.close();
// Exports what is left (the console metric reader prints its one collection now).
await telemetry.shutdown();
