/** Small HTTP helpers for the dashboard's routes: JSON replies, errors, query parsing. */
import { StemError } from "../core/errors.ts";

/** An error with the HTTP status it is answered with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const notFound = (what: string) => new HttpError(404, what);
export const badRequest = (message: string) => new HttpError(400, message);

/** Security headers every reply carries: no framing, no sniffing, scripts only from here. */
export const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** The reply for an error thrown by a route: its status and a one-line message. */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) return json({ error: error.message }, error.status);
  if (error instanceof StemError) {
    const status =
      error.code === "not_found"
        ? 404
        : error.code === "conflict" || error.code === "duplicate_task"
          ? 409
          : error.code === "invalid_argument" ||
              error.code === "invalid_task_options" ||
              error.code === "unknown_task"
            ? 400
            : error.code === "store_unavailable" || error.code === "timeout"
              ? 503
              : 500;
    return json({ error: error.message, code: error.code }, status);
  }
  return json({ error: (error as Error)?.message ?? String(error) }, 500);
}

/** A non-negative integer query parameter, or `fallback` when absent. */
export function intParam(
  query: URLSearchParams,
  name: string,
  fallback: number,
  max = 1000,
): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw badRequest(`${name} must be an integer from 0 to ${max}, got "${raw}"`);
  return n;
}

/** An ISO time (or epoch ms) as epoch ms, or undefined when absent; `name` is for the error. */
export function parseTime(raw: string | null | undefined, name: string): number | undefined {
  if (raw === null || raw === undefined || raw === "") return undefined;
  const t = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (Number.isNaN(t))
    throw badRequest(`${name} must be an ISO time like 2025-01-01T00:00:00Z, got "${raw}"`);
  return t;
}

/** An ISO time (or epoch ms) query parameter as epoch ms, or undefined when absent. */
export function timeParam(query: URLSearchParams, name: string): number | undefined {
  return parseTime(query.get(name), name);
}

/** One of `allowed`, or undefined when absent. */
export function enumParam<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  if (!allowed.includes(raw as T))
    throw badRequest(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
  return raw as T;
}

/** Reads a JSON object body; an empty body is `{}`. */
export async function readBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw badRequest("the body must be a JSON object");
  return value as Record<string, unknown>;
}

/** A string field of a body, checked. */
export function stringField(body: Record<string, unknown>, name: string, required: true): string;
export function stringField(
  body: Record<string, unknown>,
  name: string,
  required?: false,
): string | undefined;
export function stringField(
  body: Record<string, unknown>,
  name: string,
  required = false,
): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw badRequest(`"${name}" is required`);
    return undefined;
  }
  if (typeof value !== "string" || value === "")
    throw badRequest(`"${name}" must be a non-empty string`);
  return value;
}

/** A list of strings field of a body, checked. */
export function stringList(body: Record<string, unknown>, name: string): string[] | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v === ""))
    throw badRequest(`"${name}" must be a list of non-empty strings`);
  return value as string[];
}
