/**
 * OpenTelemetry inside the compiled binary: a `stem worker` and a `stem enqueue` (two
 * processes) export to a local OTLP/HTTP receiver this test runs, and their spans form
 * one trace.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, spawnStem, startStem, stem, TASKS_TS, workspace } from "./binary.ts";

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string; doubleValue?: number };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: OtlpAttribute[];
  service: string;
}
interface OtlpPoint {
  metric: string;
  value: number;
  attributes: OtlpAttribute[];
  service: string;
}

const received = { spans: [] as OtlpSpan[], points: [] as OtlpPoint[] };

function serviceOf(resource: { attributes?: OtlpAttribute[] }): string {
  return resource.attributes?.find((a) => a.key === "service.name")?.value.stringValue ?? "";
}

function attribute(attrs: OtlpAttribute[], key: string): string | number | undefined {
  const v = attrs.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : v?.doubleValue);
}

/** A minimal OTLP/HTTP JSON receiver on loopback. */
const receiver = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const url = new URL(request.url);
    const body = (await request.json()) as Record<string, unknown>;
    if (url.pathname === "/v1/traces") {
      for (const rs of (body.resourceSpans as {
        resource: { attributes: OtlpAttribute[] };
        scopeSpans: { spans: OtlpSpan[] }[];
      }[]) ?? []) {
        for (const ss of rs.scopeSpans)
          for (const span of ss.spans)
            received.spans.push({ ...span, service: serviceOf(rs.resource) });
      }
    } else if (url.pathname === "/v1/metrics") {
      type Metric = { name: string; sum?: { dataPoints: Record<string, unknown>[] } };
      for (const rm of (body.resourceMetrics as {
        resource: { attributes: OtlpAttribute[] };
        scopeMetrics: { metrics: Metric[] }[];
      }[]) ?? []) {
        for (const sm of rm.scopeMetrics) {
          for (const metric of sm.metrics) {
            for (const p of metric.sum?.dataPoints ?? []) {
              received.points.push({
                metric: metric.name,
                value: Number(p.asInt ?? p.asDouble ?? 0),
                attributes: (p.attributes as OtlpAttribute[]) ?? [],
                service: serviceOf(rm.resource),
              });
            }
          }
        }
      }
    }
    return Response.json({});
  },
});

function otelEnv(service: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_SERVICE_NAME: service,
    OTEL_BSP_SCHEDULE_DELAY: "100",
    OTEL_METRIC_EXPORT_INTERVAL: "300",
  };
}

describe("stem binary with OpenTelemetry", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem>;
  let log: () => string = () => "";

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS_TS });
    ({ proc: worker, log } = await startStem(
      ws.dir,
      ["worker", "--tasks", "./tasks.ts", "--worker-id", "otel-worker"],
      otelEnv("stem-worker-test"),
    ));
  }, 120_000);

  afterAll(async () => {
    worker?.kill("SIGKILL");
    await worker?.exited;
    ws?.cleanup();
    receiver.stop(true);
  });

  test("an enqueue in one process and the execution in the worker form one trace", async () => {
    const r = await stem(
      ws.dir,
      ["enqueue", "demo.hello", "--args", '{"name":"otel"}', "--wait", "--json"],
      otelEnv("stem-cli-test"),
    );
    expect(r.code).toBe(0);
    const { id } = JSON.parse(r.stdout);
    // The CLI flushed its span before exiting.
    const enqueue = received.spans.find(
      (s) => s.name === "stem.enqueue" && attribute(s.attributes, "stem.task.id") === id,
    );
    expect(enqueue?.service).toBe("stem-cli-test");
    const execute = await eventually(
      () =>
        received.spans.find(
          (s) =>
            s.name === "stem.execute demo.hello" && attribute(s.attributes, "stem.task.id") === id,
        ),
      10_000,
      "the worker's execute span",
    );
    expect(execute.service).toBe("stem-worker-test");
    expect(execute.traceId).toBe(enqueue!.traceId);
    expect(execute.parentSpanId).toBe(enqueue!.spanId);
    expect(attribute(execute.attributes, "stem.task.outcome")).toBe("succeeded");
    expect(attribute(execute.attributes, "stem.queue")).toBe("default");

    const succeeded = await eventually(
      () =>
        received.points.find(
          (p) =>
            p.metric === "stem.tasks.succeeded" &&
            p.service === "stem-worker-test" &&
            attribute(p.attributes, "stem.task.name") === "demo.hello",
        ),
      10_000,
      "the worker's succeeded counter",
    );
    expect(succeeded.value).toBeGreaterThanOrEqual(1);
  }, 60_000);

  test("the worker shuts down cleanly with telemetry on", async () => {
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(log()).toContain("otel-worker stopped");
  }, 40_000);
});
