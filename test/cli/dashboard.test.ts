/** `stem dashboard` from the built binary, in a folder with no node_modules: it serves its embedded UI and guards itself. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ensureBinary, stem, workspace } from "./binary.ts";
import { startStem } from "../e2e/fixtures/dashboard-browser.ts";

let ws: ReturnType<typeof workspace>;

beforeAll(async () => {
  await ensureBinary();
  ws = workspace();
}, 120_000);

afterAll(() => ws.cleanup());

async function serve(args: string[], env: Record<string, string> = {}) {
  const dashboard = startStem(ws.dir, ["dashboard", "--port", "0", ...args], env);
  const url = (await dashboard.waitFor(/dashboard on (http:\/\/\S+)/))[1];
  return { dashboard, url };
}

test("serves the page and the embedded script with no file beside the binary", async () => {
  const { dashboard, url } = await serve([]);
  try {
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/assets/app.js">');
    const script = await fetch(new URL("assets/app.js", url));
    expect(script.headers.get("content-type")).toContain("javascript");
    expect((await script.text()).length).toBeGreaterThan(10_000);
    const queues = (await (await fetch(new URL("api/queues", url))).json()) as { queues: unknown };
    expect(queues.queues).toBeArray();
    // SIGTERM with a live event stream open: the dashboard closes it and exits 0.
    const stream = await fetch(new URL("api/stream", url));
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    expect(await dashboard.stop()).toBe(0);
  } finally {
    await dashboard.stop();
  }
}, 60_000);

test("--read-only refuses actions; --base-path serves under the path", async () => {
  const { dashboard, url } = await serve(["--read-only", "--base-path", "/stem"]);
  try {
    expect(url).toEndWith("/stem/");
    const session = (await (await fetch(new URL("api/session", url))).json()) as {
      readOnly: boolean;
      csrfToken: string;
    };
    expect(session.readOnly).toBe(true);
    const refused = await fetch(new URL("api/schedules/x/disable", url), {
      method: "POST",
      headers: { "x-stem-csrf": session.csrfToken },
    });
    expect(refused.status).toBe(403);
  } finally {
    await dashboard.stop();
  }
}, 60_000);

test("--auth requires the token on every request", async () => {
  const { dashboard, url } = await serve(["--auth"], { STEM_DASHBOARD_TOKEN: "s3cret" });
  try {
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(new URL("metrics", url))).status).toBe(401);
    const ok = await fetch(new URL("metrics", url), {
      headers: { authorization: "Bearer s3cret" },
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("# TYPE stem_queue_pending gauge");
  } finally {
    await dashboard.stop();
  }
}, 60_000);

test("listening beyond loopback needs --auth (or --insecure); --auth needs the token", async () => {
  const exposed = await stem(ws.dir, ["dashboard", "--host", "0.0.0.0", "--port", "0"]);
  expect(exposed.code).toBe(2);
  expect(exposed.stderr).toContain("--auth");
  const noToken = await stem(ws.dir, ["dashboard", "--auth", "--port", "0"]);
  expect(noToken.code).toBe(2);
  expect(noToken.stderr).toContain("STEM_DASHBOARD_TOKEN");
  const badPort = await stem(ws.dir, ["dashboard", "--port", "http"]);
  expect(badPort.code).toBe(2);
  expect(badPort.stderr).toContain("--port");
  const badPath = await stem(ws.dir, ["dashboard", "--base-path", "/a b"]);
  expect(badPath.code).toBe(2);
}, 60_000);
