/** The dashboard's guards on the embedded SQLite store: credentials, CSRF, read-only, hosts. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { API_ROUTES } from "../../../src/dashboard/index.ts";
import { type DashboardFixture, openDashboard } from "../../fixtures/dashboard.ts";

let dir: string;
let fx: DashboardFixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "stem-dash-sec-"));
  fx = await openDashboard(`sqlite://${join(dir, "stem.db")}`);
  const schedules = (await fx.client.connection(fx.client.config.brokerUrl)).scheduleStore();
  await schedules.upsert({
    id: "nightly",
    taskName: "dash.ok",
    args: { n: 1 },
    kwargs: {},
    meta: {},
    spec: { kind: "cron", expression: "0 3 * * *" },
    enabled: true,
    totalRunCount: 0,
    version: 0,
  });
});

afterAll(async () => {
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
});

async function settled(id: string) {
  return (await fx.client.waitForTask(id, { timeout: 15_000 })).status;
}

describe("CSRF", () => {
  test("an action without the CSRF token, or from another origin, is refused and changes nothing", async () => {
    const missing = await fx.call("POST", "/api/schedules/nightly/disable", { csrf: false });
    expect(missing.status).toBe(403);
    expect(missing.body.error).toContain("CSRF");
    const wrong = await fx.call("POST", "/api/schedules/nightly/disable", {
      csrf: false,
      headers: { "x-stem-csrf": "guess" },
    });
    expect(wrong.status).toBe(403);
    const crossOrigin = await fx.call("POST", "/api/schedules/nightly/disable", {
      headers: { origin: "https://evil.example" },
    });
    expect(crossOrigin.status).toBe(403);
    expect((await fx.call("GET", "/api/schedules/nightly")).body.entry.enabled).toBe(true);
  });
});

describe("auth and read-only", () => {
  const TOKEN = "t0ken-for-tests";
  const request = (path: string, init: RequestInit = {}) =>
    new Request(`http://127.0.0.1${path}`, init);
  const basic = (password: string) => `Basic ${Buffer.from(`ops:${password}`).toString("base64")}`;

  test("with --auth every request needs the token, as bearer or basic-auth password", async () => {
    const { createDashboard } = await import("../../../src/dashboard/index.ts");
    const dashboard = createDashboard(fx.client, { token: TOKEN, requireAuth: true });
    try {
      const refused = await dashboard.fetch(request("/api/queues"));
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toContain("Basic");
      expect((await dashboard.fetch(request("/"))).status).toBe(401);
      expect((await dashboard.fetch(request("/metrics"))).status).toBe(401);
      const wrong = await dashboard.fetch(
        request("/api/queues", { headers: { authorization: "Bearer nope" } }),
      );
      expect(wrong.status).toBe(401);
      expect(
        (
          await dashboard.fetch(
            request("/api/queues", { headers: { authorization: `Bearer ${TOKEN}` } }),
          )
        ).status,
      ).toBe(200);
      expect(
        (
          await dashboard.fetch(
            request("/api/queues", { headers: { authorization: basic(TOKEN) } }),
          )
        ).status,
      ).toBe(200);
      expect(
        (
          await dashboard.fetch(
            request("/api/queues", { headers: { authorization: basic("nope") } }),
          )
        ).status,
      ).toBe(401);
      // Basic credentials are sent by browsers on their own: actions still need the CSRF token.
      const forged = await dashboard.fetch(
        request("/api/schedules/nightly/disable", {
          method: "POST",
          headers: { authorization: basic(TOKEN) },
        }),
      );
      expect(forged.status).toBe(403);
    } finally {
      dashboard.close();
    }
  });

  test("POST /api/tasks with the bearer token enqueues a task that runs; bad input is a 400", async () => {
    const { createDashboard } = await import("../../../src/dashboard/index.ts");
    const dashboard = createDashboard(fx.client, { token: TOKEN });
    try {
      const post = (
        body: unknown,
        headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
      ) =>
        dashboard.fetch(
          request("/api/tasks", { method: "POST", headers, body: JSON.stringify(body) }),
        );
      const noToken = await post({ name: "dash.ok", args: { n: 3 } }, {});
      expect(noToken.status).toBe(401);
      const accepted = await post({ name: "dash.ok", args: { n: 3 }, options: { priority: 5 } });
      expect(accepted.status).toBe(200);
      const { id } = (await accepted.json()) as { id: string };
      expect((await settled(id)).result).toBe(6);
      const badOption = await post({ name: "dash.ok", options: { prio: 5 } });
      expect(badOption.status).toBe(400);
      expect(((await badOption.json()) as { error: string }).error).toContain("prio");
      expect((await post({ args: {} })).status).toBe(400);
      expect((await post({ name: "dash.ok", args: [1] })).status).toBe(400);
    } finally {
      dashboard.close();
    }
  });

  test("a read-only dashboard refuses every action and says so in its session", async () => {
    const { createDashboard } = await import("../../../src/dashboard/index.ts");
    const dashboard = createDashboard(fx.client, { readOnly: true, token: TOKEN });
    try {
      const session = (await (await dashboard.fetch(request("/api/session"))).json()) as {
        readOnly: boolean;
        csrfToken: string;
      };
      expect(session.readOnly).toBe(true);
      for (const route of API_ROUTES.filter((r) => r.method !== "GET")) {
        const path = route.path.replace(/:([a-z]+)/gi, "x");
        const response = await dashboard.fetch(
          request(path, {
            method: route.method,
            headers: { "x-stem-csrf": session.csrfToken, authorization: `Bearer ${TOKEN}` },
            body: "{}",
          }),
        );
        expect(`${route.method} ${route.path} ${response.status}`).toBe(
          `${route.method} ${route.path} 403`,
        );
      }
      expect((await dashboard.fetch(request("/api/queues"))).status).toBe(200);
    } finally {
      dashboard.close();
    }
  });

  test("allowed hosts refuse another Host (DNS rebinding); a base path serves under it only", async () => {
    const { createDashboard } = await import("../../../src/dashboard/index.ts");
    const dashboard = createDashboard(fx.client, {
      allowedHosts: ["127.0.0.1"],
      basePath: "/stem/",
    });
    try {
      expect(
        (await dashboard.fetch(new Request("http://evil.example/stem/api/queues"))).status,
      ).toBe(403);
      expect((await dashboard.fetch(request("/stem/api/queues"))).status).toBe(200);
      expect((await dashboard.fetch(request("/api/queues"))).status).toBe(404);
      const page = await (await dashboard.fetch(request("/stem/"))).text();
      expect(page).toContain('src="/stem/assets/app.js"');
      expect(() => createDashboard(fx.client, { basePath: 'x"><script>' })).toThrow("base path");
    } finally {
      dashboard.close();
    }
  });
});
