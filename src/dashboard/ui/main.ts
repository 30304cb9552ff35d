/**
 * The dashboard's browser entry: hash routes (#/tasks, #/tasks/ID, …) to pages, a
 * navigation bar, and the session (read-only flag, CSRF token) loaded first.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type Session, loadSession } from "./api.ts";
import { Notice } from "./components.ts";
import { html } from "./html.ts";
import { DeadLettersPage } from "./pages/dead-letters.ts";
import { MetricsPage } from "./pages/metrics.ts";
import { OverviewPage } from "./pages/overview.ts";
import { QueuesPage } from "./pages/queues.ts";
import { SchedulesPage } from "./pages/schedules.ts";
import { TasksPage } from "./pages/tasks.ts";
import { WorkersPage } from "./pages/workers.ts";
import { WorkflowsPage } from "./pages/workflows.ts";
import type { PageProps } from "./route.ts";

const PAGES: { path: string; title: string; view: (props: PageProps) => unknown }[] = [
  { path: "overview", title: "Overview", view: OverviewPage },
  { path: "queues", title: "Queues", view: QueuesPage },
  { path: "tasks", title: "Tasks", view: TasksPage },
  { path: "dead-letters", title: "Dead letters", view: DeadLettersPage },
  { path: "workers", title: "Workers", view: WorkersPage },
  { path: "schedules", title: "Schedules", view: SchedulesPage },
  { path: "workflows", title: "Workflows", view: WorkflowsPage },
  { path: "metrics", title: "Metrics", view: MetricsPage },
];

function parseHash(): { segments: string[]; params: URLSearchParams } {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?", 2);
  const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  return {
    segments: segments.length ? segments : ["overview"],
    params: new URLSearchParams(search),
  };
}

function App() {
  const [route, setRoute] = useState(parseHash);
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const onHash = () => setRoute(parseHash());
    addEventListener("hashchange", onHash);
    loadSession().then(setSession, (e: Error) => setError(e.message));
    return () => removeEventListener("hashchange", onHash);
  }, []);
  const page = PAGES.find((p) => p.path === route.segments[0]);
  useEffect(() => {
    document.title = `${page?.title ?? "Not found"} · Stem`;
  }, [page]);
  return html`
    <header>
      <h1>Stem</h1>
      <nav aria-label="pages">
        ${PAGES.map(
          (p) =>
            html`<a href=${`#/${p.path}`} aria-current=${p === page ? "page" : undefined}>${p.title}</a>`,
        )}
      </nav>
      ${session?.readOnly ? html`<span class="state">read-only</span>` : null}
    </header>
    <main id="main">
      ${error ? html`<${Notice} error>${error}<//>` : null}
      ${
        !session
          ? null
          : page
            ? html`<${page.view} segments=${route.segments.slice(1)} params=${route.params} session=${session} />`
            : html`<${Notice} error>No page ${route.segments[0]}<//>`
      }
    </main>`;
}

const root = document.getElementById("app") as HTMLElement;
root.textContent = ""; // the "Loading…" placeholder
render(html`<${App} />`, root);
