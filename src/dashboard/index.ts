/**
 * The dashboard: a web UI and a JSON API over a client's stores, as a fetch handler
 * (`createDashboard(client).fetch`) that `stem dashboard` serves and an app can mount.
 */
import pkg from "../../package.json" with { type: "json" };
import type { StemClient } from "../app/client.ts";
import { logger } from "../core/logger.ts";
import { deadLetterRoutes } from "./api/dead-letters.ts";
import { metricsRoutes } from "./api/metrics.ts";
import { overviewRoutes } from "./api/overview.ts";
import { queueRoutes } from "./api/queues.ts";
import { scheduleRoutes } from "./api/schedules.ts";
import { taskRoutes } from "./api/tasks.ts";
import { workerRoutes } from "./api/workers.ts";
import { workflowRoutes } from "./api/workflows.ts";
import { type DashboardContext, openContext } from "./context.ts";
import { SECURITY_HEADERS, errorResponse, json, readBody } from "./http.ts";
import { openApiDocument } from "./openapi.ts";
import { pageHtml, STYLES } from "./page.ts";
import { prometheusText } from "./prometheus.ts";
import { type Route, Router } from "./routes.ts";
import { Security } from "./security.ts";
import { uiScript } from "./ui-bundle.ts";

export interface DashboardOptions {
  /** Serve under this path (`/stem`); default the root. */
  basePath?: string;
  /** Refuse every action (and the UI hides them). */
  readOnly?: boolean;
  /** The API token (default STEM_DASHBOARD_TOKEN): needed to enqueue, and for everything with `requireAuth`. */
  token?: string;
  /** Every request needs the token (bearer or basic-auth password). */
  requireAuth?: boolean;
  /** Only these Host names are answered (protects a loopback dashboard from DNS rebinding). */
  allowedHosts?: string[];
  /** How often queue depth is sampled and the live stream pushes (ms, default 2000). */
  sampleIntervalMs?: number;
  /** Clock (for tests). */
  now?: () => number;
}

export interface Dashboard {
  /** Answers a request (under the base path); 404 for other paths. */
  fetch(request: Request): Promise<Response>;
  /** Every route: the JSON API, the session, the OpenAPI document and /metrics. */
  readonly routes: Route[];
  /** Stops the depth sampler (the client stays open: it is the caller's). */
  close(): void;
}

/** Normalises a base path: "" or "/x/y" (no trailing slash); refuses anything else. */
export function normaliseBasePath(basePath = ""): string {
  const trimmed = basePath.replace(/\/+$/, "");
  if (trimmed === "") return "";
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(trimmed))
    throw new Error(`base path must look like /stem or /ops/stem, got "${basePath}"`);
  return trimmed;
}

export const API_ROUTES: Route[] = [
  ...overviewRoutes,
  ...queueRoutes,
  ...taskRoutes,
  ...deadLetterRoutes,
  ...workerRoutes,
  ...scheduleRoutes,
  ...workflowRoutes,
  ...metricsRoutes,
];

/** Makes a dashboard over `client`'s stores (schedule and workflow stores from its configuration). */
export function createDashboard(client: StemClient, options: DashboardOptions = {}): Dashboard {
  const basePath = normaliseBasePath(options.basePath);
  const readOnly = Boolean(options.readOnly);
  const token = options.token ?? process.env.STEM_DASHBOARD_TOKEN ?? undefined;
  if (options.requireAuth && !token)
    throw new Error("authentication needs a token: set STEM_DASHBOARD_TOKEN");
  const security = new Security({
    token: token || undefined,
    requireAuth: Boolean(options.requireAuth),
    readOnly,
    csrfToken: Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url"),
    allowedHosts: options.allowedHosts,
  });
  const routes: Route[] = [
    ...API_ROUTES,
    {
      method: "GET",
      path: "/api/session",
      summary:
        "The CSRF token actions need (X-Stem-CSRF), whether the dashboard is read-only, its version",
      handle: async () => ({
        csrfToken: security.csrfToken,
        readOnly,
        basePath,
        version: pkg.version,
      }),
    },
    {
      method: "GET",
      path: "/api/openapi.json",
      summary: "This document",
      handle: async () => openApiDocument(routes, pkg.version, basePath),
    },
    {
      method: "GET",
      path: "/metrics",
      summary:
        "Prometheus text: queue depths, in flight, paused, workers, worker counters, schedule runs and drift",
      handle: async (_, ctx) =>
        new Response(await prometheusText(ctx), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        }),
    },
  ];
  const router = new Router(routes);
  const now = options.now ?? Date.now;
  let context: Promise<DashboardContext> | undefined;
  const getContext = () => {
    context ??= openContext(client, {
      readOnly,
      sampleIntervalMs: options.sampleIntervalMs ?? 2000,
      now,
    }).then(
      (ctx) => {
        ctx.depth.start();
        return ctx;
      },
      (error) => {
        // Not kept: the next request tries to open the stores again.
        context = undefined;
        throw error;
      },
    );
    return context;
  };

  async function answer(request: Request, path: string): Promise<Response> {
    const refused = security.checkRequest(request);
    if (refused) return refused;
    if (path === "" || path === "/")
      return new Response(pageHtml(basePath), {
        headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
      });
    if (path === "/assets/app.js")
      return new Response(await uiScript(), {
        headers: { "content-type": "text/javascript; charset=utf-8" },
      });
    if (path === "/assets/app.css")
      return new Response(STYLES, { headers: { "content-type": "text/css; charset=utf-8" } });
    const match = router.match(request.method, path);
    if (!match) return json({ error: `no such path: ${path}` }, 404);
    if ("methodNotAllowed" in match)
      return json({ error: `${request.method} not allowed on ${path}` }, 405);
    const { route, params } = match;
    if (route.method !== "GET") {
      const refusedAction = security.checkAction(request, Boolean(route.tokenRequired));
      if (refusedAction) return refusedAction;
    }
    const body = route.method === "GET" ? {} : await readBody(request);
    const result = await route.handle(
      { params, query: new URL(request.url).searchParams, body, request },
      await getContext(),
    );
    return result instanceof Response ? result : json(result);
  }

  return {
    routes,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (basePath && path !== basePath && !path.startsWith(`${basePath}/`))
        return json({ error: `no such path: ${path}` }, 404);
      let response: Response;
      try {
        response = await answer(request, path.slice(basePath.length));
      } catch (error) {
        response = errorResponse(error);
        if (response.status >= 500)
          logger.error(
            `dashboard: ${request.method} ${path}: ${(error as Error)?.message ?? error}`,
          );
      }
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) response.headers.set(k, v);
      return response;
    },
    close() {
      // A context that failed to open started nothing: there is nothing to stop.
      void context?.then(
        (ctx) => ctx.depth.stop(),
        () => {},
      );
    },
  };
}
