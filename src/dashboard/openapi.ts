/** The OpenAPI 3.1 document for the dashboard's JSON API, written from the route table. */
import type { Route } from "./routes.ts";

export function openApiDocument(routes: Route[], version: string, basePath: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([a-z]+)/gi, "{$1}");
    const parameters = [
      ...[...route.path.matchAll(/:([a-z]+)/gi)].map(([, name]) => ({
        name,
        in: "path",
        required: true,
        schema: { type: "string" },
      })),
      ...Object.entries(route.query ?? {}).map(([name, description]) => ({
        name,
        in: "query",
        required: false,
        description,
        schema: { type: "string" },
      })),
    ];
    const action = route.method !== "GET";
    const operation: Record<string, unknown> = {
      summary: route.summary,
      parameters,
      responses: {
        "200": { description: "OK (JSON)" },
        "400": { description: "Invalid input, with `error` naming what is wrong" },
        "401": { description: "Missing or wrong credentials" },
        "404": { description: "Unknown id" },
        ...(action ? { "403": { description: "Read-only dashboard, or CSRF check failed" } } : {}),
      },
    };
    if (route.tokenRequired) operation.security = [{ bearer: [] }, { basic: [] }];
    if (route.body)
      operation.requestBody = {
        required: false,
        content: {
          "application/json": {
            schema: {
              type: "object",
              properties: Object.fromEntries(
                Object.entries(route.body).map(([k, description]) => [k, { description }]),
              ),
            },
          },
        },
      };
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Stem dashboard API",
      version,
      description:
        "Actions (POST) need the `X-Stem-CSRF` header with the token from GET /api/session, or an `Authorization: Bearer` token.",
    },
    servers: [{ url: basePath || "/" }],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "STEM_DASHBOARD_TOKEN" },
        basic: {
          type: "http",
          scheme: "basic",
          description: "any user, STEM_DASHBOARD_TOKEN as password",
        },
      },
    },
    paths,
  };
}
