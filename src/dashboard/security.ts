/**
 * Who may use the dashboard and how actions are protected:
 * - with a token (`STEM_DASHBOARD_TOKEN`) and `requireAuth`, every request needs it, as a
 *   bearer token or as the password of HTTP basic auth (any user name);
 * - enqueueing through the API always needs the token;
 * - every action (POST/DELETE) needs the CSRF token the page reads from `/api/session`
 *   (sent as `X-Stem-CSRF`) and a same-origin `Origin` when the browser sends one, or a
 *   bearer token (which a browser never attaches on its own);
 * - a read-only dashboard refuses every action;
 * - `allowedHosts` refuses other Host headers (DNS rebinding against a loopback dashboard).
 */
import { timingSafeEqual } from "node:crypto";
import { json } from "./http.ts";

export interface SecurityOptions {
  token?: string;
  requireAuth: boolean;
  readOnly: boolean;
  csrfToken: string;
  allowedHosts?: string[];
}

export const CSRF_HEADER = "x-stem-csrf";

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The credential a request carries: a bearer token, or a basic-auth password. */
function credential(request: Request): { kind: "bearer" | "basic"; secret: string } | null {
  const header = request.headers.get("authorization");
  if (!header) return null;
  const [scheme, value = ""] = header.split(/\s+/, 2);
  if (scheme.toLowerCase() === "bearer") return { kind: "bearer", secret: value };
  if (scheme.toLowerCase() === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return { kind: "basic", secret: colon < 0 ? "" : decoded.slice(colon + 1) };
  }
  return null;
}

function unauthorized(message: string): Response {
  return json({ error: message }, 401, { "www-authenticate": 'Basic realm="stem dashboard"' });
}

export class Security {
  constructor(private readonly options: SecurityOptions) {}

  get readOnly(): boolean {
    return this.options.readOnly;
  }

  get csrfToken(): string {
    return this.options.csrfToken;
  }

  private carries(request: Request, kinds: ("bearer" | "basic")[]): boolean {
    const token = this.options.token;
    const given = credential(request);
    return Boolean(token && given && kinds.includes(given.kind) && same(given.secret, token));
  }

  /** A refusal for any request (host, credentials), or null to go on. */
  checkRequest(request: Request): Response | null {
    const hosts = this.options.allowedHosts;
    if (hosts) {
      const host = new URL(request.url).hostname;
      if (!hosts.includes(host)) return json({ error: `host "${host}" is not allowed` }, 403);
    }
    if (this.options.requireAuth && !this.carries(request, ["bearer", "basic"]))
      return unauthorized(
        "credentials required (STEM_DASHBOARD_TOKEN as bearer token or basic-auth password)",
      );
    return null;
  }

  /** A refusal for an action (POST/DELETE), or null to go on. */
  checkAction(request: Request, tokenRequired: boolean): Response | null {
    if (this.options.readOnly)
      return json({ error: "the dashboard is read-only: actions are turned off" }, 403);
    if (tokenRequired) {
      if (!this.options.token)
        return json({ error: "set STEM_DASHBOARD_TOKEN to enqueue through the API" }, 403);
      if (!this.carries(request, ["bearer", "basic"]))
        return unauthorized("this call needs the API token (STEM_DASHBOARD_TOKEN)");
    }
    // A bearer token is never attached by a browser on its own: no cross-site forgery.
    if (this.carries(request, ["bearer"])) return null;
    const csrf = request.headers.get(CSRF_HEADER);
    if (!csrf || !same(csrf, this.options.csrfToken))
      return json({ error: `missing or wrong ${CSRF_HEADER} header (CSRF protection)` }, 403);
    const origin = request.headers.get("origin");
    if (origin && origin !== new URL(request.url).origin)
      return json({ error: `cross-origin request from ${origin} refused` }, 403);
    if (request.headers.get("sec-fetch-site") === "cross-site")
      return json({ error: "cross-site request refused" }, 403);
    return null;
  }
}
