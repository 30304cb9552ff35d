/** Talks to the dashboard's JSON API: the base path, the CSRF token for actions, errors. */

export interface Session {
  csrfToken: string;
  readOnly: boolean;
  basePath: string;
  version: string;
}

const basePath =
  document.querySelector<HTMLMetaElement>('meta[name="stem-base-path"]')?.content ?? "";

let session: Session | undefined;

export function apiUrl(path: string): string {
  return `${basePath}${path}`;
}

/** Reads the session (CSRF token, read-only flag) once. */
export async function loadSession(): Promise<Session> {
  session ??= await get<Session>("/api/session");
  return session;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function parse<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(response.status, `unexpected reply (${response.status})`);
  }
  if (!response.ok)
    throw new ApiError(
      response.status,
      (body as { error?: string }).error ?? `HTTP ${response.status}`,
    );
  return body as T;
}

export async function get<T>(path: string): Promise<T> {
  return parse<T>(await fetch(apiUrl(path), { headers: { accept: "application/json" } }));
}

/** Sends an action (POST/DELETE) with the CSRF token. */
export async function act<T = Record<string, unknown>>(
  path: string,
  body: Record<string, unknown> = {},
  method: "POST" | "DELETE" = "POST",
): Promise<T> {
  const { csrfToken } = await loadSession();
  return parse<T>(
    await fetch(apiUrl(path), {
      method,
      headers: { "content-type": "application/json", "x-stem-csrf": csrfToken },
      body: JSON.stringify(body),
    }),
  );
}

/** Builds a query string from the set values. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : "";
}
