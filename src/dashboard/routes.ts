/**
 * The dashboard's route table: each route's method, path, documentation and handler.
 * The same table routes requests and writes the OpenAPI document, so the two cannot drift.
 */
import type { DashboardContext } from "./context.ts";

export type Method = "GET" | "POST" | "DELETE";

/** What a handler gets: path parameters, the query and the parsed JSON body (actions). */
export interface RouteInput {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  request: Request;
}

export interface Route {
  method: Method;
  /** Under the API root, with `:name` parameters: `/api/tasks/:id`. */
  path: string;
  summary: string;
  /** Query parameters: name → description (OpenAPI). */
  query?: Record<string, string>;
  /** Body fields: name → description (OpenAPI). */
  body?: Record<string, string>;
  /** Needs the API token even when the dashboard has no --auth (enqueueing). */
  tokenRequired?: boolean;
  /** Returns a value sent as JSON, or a Response as it is. */
  handle(input: RouteInput, ctx: DashboardContext): Promise<unknown>;
}

/** A route with its path compiled for matching. */
interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

/** Matches requests to routes. Path parameters are URL-decoded. */
export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(readonly routes: Route[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const source = route.path
        .split("/")
        .map((part) => {
          if (!part.startsWith(":")) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          names.push(part.slice(1));
          return "([^/]+)";
        })
        .join("/");
      return { route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  /** The route for a method and path; `methodNotAllowed` when the path exists with other methods. */
  match(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | { methodNotAllowed: true } | null {
    let pathExists = false;
    for (const { route, pattern, names } of this.compiled) {
      const m = pattern.exec(path);
      if (!m) continue;
      pathExists = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]);
      });
      return { route, params };
    }
    return pathExists ? { methodNotAllowed: true } : null;
  }
}
