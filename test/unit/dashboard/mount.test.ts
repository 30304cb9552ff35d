/** An app mounts the dashboard under its own server and path, on the in-memory stores. */
import { expect, test } from "bun:test";
import { StemClient, createDashboard } from "../../../src/index.ts";

test("createDashboard from 'stem' serves under an app's own router and base path", async () => {
  const client = await StemClient.inMemory();
  const dashboard = createDashboard(client, { basePath: "/ops/stem" });
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch: (request) => {
      const { pathname } = new URL(request.url);
      if (pathname.startsWith("/ops/stem")) return dashboard.fetch(request);
      return new Response("the app's own page");
    },
  });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    expect(await (await fetch(`${base}/`)).text()).toBe("the app's own page");
    await client.enqueue("anything", { n: 1 }, { queue: "mounted" });
    const queues = (await (await fetch(`${base}/ops/stem/api/queues`)).json()) as {
      queues: { queue: string; pending: number }[];
    };
    expect(queues.queues).toEqual([
      expect.objectContaining({ queue: "mounted", pending: 1, paused: false }),
    ]);
    const page = await (await fetch(`${base}/ops/stem/`)).text();
    expect(page).toContain('src="/ops/stem/assets/app.js"');
  } finally {
    await server.stop(true);
    dashboard.close();
    await client.close();
  }
});
