/**
 * `stem dashboard` in a real browser (Debian's Chromium through playwright-core): a worker,
 * Beat and the dashboard run from the built binary on the embedded SQLite default; the
 * browser sees counts move, opens a failed task's traceback, replays a dead letter and sees
 * it succeed, pauses and resumes a queue, disables a schedule, emits a workflow event and
 * sees the run complete, and finds `<script>` payloads shown as text. Screenshots of every
 * page at 1280×800 and 390 wide go to test-artifacts/dashboard/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ensureBinary, stem, workspace } from "../cli/binary.ts";
import {
  type StemProcess,
  artifact,
  browserMissing,
  launchChromium,
  startStem,
} from "./fixtures/dashboard-browser.ts";
import { type TestStore, postgresStore, redisStore } from "./fixtures/canvas-stores.ts";

/** Sets a global when it runs: the page must never run it. */
const XSS = `<script>window.__xss=1</script><img src=x onerror="window.__xss=1">`;
const XSS_NAME = "xss.<script>window.__xss=1</script>";
const XSS_QUEUE = "<img src=x onerror=window.__xss=1>";

const TASKS_TS = `import { existsSync } from "node:fs";
import { defineTask, WorkflowScript } from "stem";

export const ok = defineTask({ name: "demo.ok", run: (_ctx, args) => ({ echoed: args }) });

export const fail = defineTask({
  name: "demo.fail",
  run: (_ctx, args) => {
    throw new Error("always fails: " + String(args.note));
  },
});

/** Fails until the file "ready" exists: a dead letter that succeeds when replayed. */
export const flaky = defineTask({
  name: "demo.flaky",
  run: () => {
    if (!existsSync("ready")) throw new Error("not ready yet");
    return "ready now";
  },
});

export const approval = WorkflowScript({
  name: "demo.approval",
  run: async (script) => {
    await script.step("prepare", () => "prepared");
    const decision = await script.step("approve", async (step) => (await step.awaitEvent("demo.approved")) ?? null);
    return script.step("finish", () => decision);
  },
});
`;

const SCHEDULES_YAML = `schedules:
  - id: tick
    task: demo.ok
    schedule: "every:2s"
    args: { from: beat }
  - id: nightly
    task: demo.ok
    schedule: { kind: cron, expression: "0 3 * * *" }
    timezone: Europe/London
`;

const skip = browserMissing();
let ws: ReturnType<typeof workspace>;
let processes: StemProcess[] = [];
let browser: Browser;
let baseUrl: string;
/** The store every process uses (STEM_BROKER_URL), none for the embedded SQLite default. */
let env: Record<string, string> = {};
/** Screenshot name prefix for the backend under test. */
let tag = "";

async function cli(args: string[]): Promise<string> {
  const result = await stem(ws.dir, args, env);
  if (result.code !== 0)
    throw new Error(`stem ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result.stdout.trim();
}

async function openPage(width: number, height: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.on("dialog", (dialog) => void dialog.accept());
  return page;
}

/** Goes to a hash route and waits for its heading. */
async function visit(page: Page, route: string, heading: string | RegExp): Promise<void> {
  await page.goto(`${baseUrl}#/${route}`);
  await page.getByRole("heading", { level: 2, name: heading }).waitFor();
}

async function noScriptRan(page: Page): Promise<void> {
  // Functions run in the page are given as strings: this file is type-checked without DOM types.
  expect(await page.evaluate("typeof window.__xss")).toBe("undefined");
  expect(await page.locator("script").count()).toBe(1);
}

/** Starts a worker, Beat and the dashboard from dist/stem on the given store (none: the embedded default). */
function startAll(name: string, open?: () => Promise<TestStore>) {
  let store: TestStore | undefined;
  beforeAll(async () => {
    if (skip) return;
    await ensureBinary();
    store = open ? await open() : undefined;
    env = store ? { STEM_BROKER_URL: store.url } : {};
    tag = open ? `${name.toLowerCase()}-` : "";
    ws = workspace({ "tasks.ts": TASKS_TS, "schedules.yaml": SCHEDULES_YAML });
    await cli(["schedule", "apply", "schedules.yaml"]);
    const worker = startStem(ws.dir, ["worker", "-t", "tasks.ts", "-c", "2"], env);
    const beat = startStem(ws.dir, ["beat"], env);
    const dashboard = startStem(ws.dir, ["dashboard", "--port", "0"], env);
    processes = [worker, beat, dashboard];
    await worker.waitFor(/ready: queues/);
    baseUrl = (await dashboard.waitFor(/dashboard on (http:\/\/\S+)/))[1];
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    if (skip) return;
    await browser?.close();
    await Promise.all(processes.map((p) => p.stop()));
    ws?.cleanup();
    await store?.cleanup();
  });
}

for (const [name, open] of [
  ["embedded SQLite", undefined],
  ["Redis", redisStore],
  ["Postgres", postgresStore],
] as const) {
  describe(`dashboard in Chromium on ${name}`, () => {
    startAll(name, open);

    test.skipIf(skip)(
      "the dashboard shows live work and its actions work, in Chromium",
      async () => {
        const okIds = await Promise.all(
          [1, 2, 3].map((n) =>
            cli(["enqueue", "demo.ok", "--args", JSON.stringify({ n, html: XSS })]),
          ),
        );
        const failId = await cli(["enqueue", "demo.fail", "--args", JSON.stringify({ note: XSS })]);
        const flakyId = await cli(["enqueue", "demo.flaky"]);
        await cli(["enqueue", XSS_NAME, "-q", XSS_QUEUE, "--args", JSON.stringify({ html: XSS })]);
        const runId = await cli(["wf", "start", "demo.approval"]);
        const page = await openPage(1280, 800);

        // Overview: the worker is online and the succeeded count moves as Beat's ticks run.
        await visit(page, "overview", "Overview");
        await page.locator('[data-stat="workers"] .value', { hasText: /^1$/ }).waitFor();
        const succeeded = page.locator('[data-stat="succeeded"] .value');
        // Polled from here: the page's CSP (rightly) refuses waitForFunction's string code.
        const succeededAbove = async (n: number) => {
          const deadline = Date.now() + 30_000;
          while (Number(await succeeded.textContent()) <= n) {
            if (Date.now() > deadline)
              throw new Error(`the succeeded count stayed at ${n} or below`);
            await Bun.sleep(200);
          }
        };
        await succeededAbove(2);
        await succeededAbove(Number(await succeeded.textContent()));
        await page
          .getByText("collecting samples…")
          .first()
          .waitFor({ state: "detached", timeout: 30_000 });
        await page.screenshot({ path: artifact(tag + "overview-1280.png"), fullPage: true });

        // A failed task's traceback, with the <script> payload shown as text.
        await visit(page, `tasks/${failId}`, /^Task /);
        const traceback = page.locator("pre.traceback");
        await traceback.waitFor();
        expect(await traceback.textContent()).toContain(`always fails: ${XSS}`);
        expect(await page.locator(".error-message").textContent()).toContain(XSS);
        await noScriptRan(page);
        await page.screenshot({ path: artifact(tag + "task-failed-1280.png"), fullPage: true });

        // Task list: the XSS task name and queue are text.
        await visit(page, "tasks", "Tasks");
        await page.getByText(XSS_NAME, { exact: true }).first().waitFor();
        await page.getByRole("cell", { name: XSS_QUEUE, exact: true }).first().waitFor();
        expect(okIds).toHaveLength(3);
        await noScriptRan(page);
        await page.screenshot({ path: artifact(tag + "tasks-1280.png"), fullPage: true });

        // Replay a dead letter once it can succeed: its task page shows it succeeded.
        writeFileSync(join(ws.dir, "ready"), "");
        await visit(page, "dead-letters", "Dead letters");
        await page
          .getByRole("link", { name: `${flakyId.slice(0, 8)}…${flakyId.slice(-4)}` })
          .waitFor();
        await page.screenshot({ path: artifact(tag + "dead-letters-1280.png"), fullPage: true });
        await visit(page, `dead-letters/${flakyId}`, /^Dead letter /);
        await page.getByRole("button", { name: "Replay" }).click();
        await page.getByRole("heading", { level: 2, name: /^Task / }).waitFor();
        await page.locator(".state-succeeded").first().waitFor({ timeout: 30_000 });

        // Pause and resume the default queue.
        await visit(page, "queues", "Queues");
        await page.getByRole("cell", { name: XSS_QUEUE, exact: true }).waitFor();
        await page.getByRole("button", { name: "Pause default" }).click();
        await page.getByRole("button", { name: "Resume default" }).waitFor();
        // Stored for every worker, not only shown: the API reads it back from the revoke store.
        const queue = (await (await fetch(`${baseUrl}api/queues/default`)).json()) as {
          paused: boolean;
        };
        expect(queue.paused).toBe(true);
        await page.screenshot({ path: artifact(tag + "queues-paused-1280.png"), fullPage: true });
        await page.getByRole("button", { name: "Resume default" }).click();
        await page.getByRole("button", { name: "Pause default" }).waitFor();

        // Disable a schedule: the store says so too.
        await visit(page, "schedules", "Schedules");
        await page.getByRole("button", { name: "Disable tick" }).click();
        await page.getByRole("button", { name: "Enable tick" }).waitFor();
        const shown = JSON.parse(await cli(["schedule", "show", "tick", "--json"]));
        expect(shown.entry.enabled).toBe(false);
        await page.screenshot({ path: artifact(tag + "schedules-1280.png"), fullPage: true });
        await visit(page, "schedules/nightly", "Schedule nightly");
        expect(await page.locator("ol.mono li").count()).toBe(10);

        // Emit the event the workflow waits for: the run completes with the payload.
        await visit(page, "workflows", "Workflows");
        await page.getByLabel("Event topic").fill("demo.approved");
        await page.getByLabel("Payload (JSON)").fill(JSON.stringify({ by: XSS }));
        await page.getByRole("button", { name: "Emit event" }).click();
        await page.getByText("resumed 1 run(s)").waitFor();
        await visit(page, `workflows/${runId}`, /^Run /);
        await page.locator(".state-completed").first().waitFor({ timeout: 30_000 });
        expect(await page.locator("pre").first().textContent()).toContain(XSS.replace(/"/g, '\\"'));
        await noScriptRan(page);
        await page.screenshot({ path: artifact(tag + "workflow-run-1280.png"), fullPage: true });

        await visit(page, "metrics", "Metrics");
        await page.getByRole("cell", { name: "demo.fail", exact: true }).waitFor();
        await page.screenshot({ path: artifact(tag + "metrics-1280.png"), fullPage: true });

        await visit(page, "workers", "Workers");
        await page.locator(".state-alive").first().waitFor();
        await page.screenshot({ path: artifact(tag + "workers-1280.png"), fullPage: true });
        await page.context().close();
      },
      180_000,
    );

    // Layout and keyboard do not depend on the store: checked once.
    if (open) return;
    test.skipIf(skip)(
      "every page works 390 wide and from the keyboard",
      async () => {
        const page = await openPage(390, 844);
        for (const [route, heading] of [
          ["overview", "Overview"],
          ["queues", "Queues"],
          ["tasks", "Tasks"],
          ["dead-letters", "Dead letters"],
          ["workers", "Workers"],
          ["schedules", "Schedules"],
          ["workflows", "Workflows"],
        ] as const) {
          await visit(page, route, heading);
          // Nothing wider than the screen except inside scrolling tables.
          const overflow = await page.evaluate(
            "document.documentElement.scrollWidth - window.innerWidth",
          );
          expect(`${route}: ${overflow}`).toBe(`${route}: 0`);
          await page.screenshot({ path: artifact(`${route}-390.png`), fullPage: true });
        }
        // Dark mode follows the system.
        await page.emulateMedia({ colorScheme: "dark" });
        await visit(page, "overview", "Overview");
        expect(await page.evaluate("getComputedStyle(document.body).backgroundColor")).toBe(
          "rgb(17, 19, 23)",
        );
        await page.screenshot({ path: artifact("overview-390-dark.png"), fullPage: true });
        await page.emulateMedia({ colorScheme: "light" });
        // Keyboard: Tab reaches the navigation, Enter follows a link.
        await visit(page, "overview", "Overview");
        await page.keyboard.press("Tab");
        await page.keyboard.press("Tab");
        expect(await page.evaluate("document.activeElement?.textContent")).toBe("Queues");
        await page.keyboard.press("Enter");
        await page.getByRole("heading", { level: 2, name: "Queues" }).waitFor();
        await page.context().close();
      },
      60_000,
    );
  });
}
