import type { Session } from "./api.ts";

/** What each page gets: the hash path after its name, the hash query, the session. */
export interface PageProps {
  segments: string[];
  params: URLSearchParams;
  session: Session;
}

/** Moves to a hash route. */
export function go(path: string): void {
  location.hash = `#/${path}`;
}
