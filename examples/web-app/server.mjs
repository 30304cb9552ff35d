// A small Node HTTP service that produces tasks for `stem worker` (see README.md here).
//   POST /reports {"customer":"acme"}  → 202 {"id": "..."}: enqueued, answered at once
//   GET  /reports/ID                   → the task's state, and its result once it has one
//   GET  /reports/ID?wait=10s          → waits up to 10 s for the result
// It imports only `stem/client`, which runs on Node; the store comes from STEM_BROKER_URL
// (Redis or Postgres, shared with the worker).
import { createServer } from "node:http";
import { StemClient, TimeoutError } from "stem/client";

const url = process.env.STEM_BROKER_URL;
if (!url) throw new Error("set STEM_BROKER_URL to the Redis or Postgres URL the worker uses");
// No task definitions here: the worker has them; tasks are enqueued by name.
const client = await StemClient.fromUrl(url);

function send(response, status, body) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

async function readJson(request) {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text ? JSON.parse(text) : {};
}

const server = createServer(async (request, response) => {
  const { pathname, searchParams } = new URL(request.url, "http://localhost");
  try {
    if (request.method === "POST" && pathname === "/reports") {
      const { customer } = await readJson(request);
      if (typeof customer !== "string") return send(response, 400, { error: "customer must be a string" });
      const id = await client.enqueue("reports.build", { customer });
      return send(response, 202, { id });
    }
    const match = /^\/reports\/([\w:.-]+)$/.exec(pathname);
    if (request.method === "GET" && match) {
      const wait = searchParams.get("wait");
      if (wait) {
        try {
          const result = await client.waitForTask(match[1], { timeout: wait });
          return send(response, 200, { id: match[1], state: result.state, result: result.value });
        } catch (error) {
          if (!(error instanceof TimeoutError)) throw error;
        }
      }
      const status = await client.getTaskStatus(match[1]);
      if (!status) return send(response, 404, { error: `no task ${match[1]}` });
      return send(response, 200, { id: match[1], state: status.state, result: status.result ?? null });
    }
    send(response, 404, { error: "not found" });
  } catch (error) {
    send(response, 500, { error: error instanceof Error ? error.message : String(error) });
  }
});

const port = Number(process.env.PORT ?? 3000);
server.listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => client.close().then(() => process.exit(0))));
}
