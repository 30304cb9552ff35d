import { defineCommand } from "citty";
import { logger } from "../src/core/logger.ts";
import { createDashboard, normaliseBasePath } from "../src/dashboard/index.ts";
import { withExamples } from "./output/help.ts";
import { startupSignals } from "./startup-signals.ts";
import { UsageError, openClient, storeArgs } from "./shared.ts";

/** Host names that only this machine can reach. */
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export const dashboardCommand = defineCommand({
  meta: {
    name: "dashboard",
    description:
      "Serve the web dashboard and its JSON API (queues, tasks, dead letters, workers, schedules, workflows)",
  },
  args: {
    ...storeArgs,
    host: { type: "string", default: "127.0.0.1", description: "Address to listen on" },
    port: { type: "string", default: "5555", description: "Port to listen on (0: any free port)" },
    "base-path": { type: "string", description: "Serve under this path, like /stem" },
    "read-only": { type: "boolean", description: "Hide and refuse every action" },
    auth: {
      type: "boolean",
      description:
        "Require STEM_DASHBOARD_TOKEN (bearer token or basic-auth password) on every request",
    },
    insecure: {
      type: "boolean",
      description:
        "Allow listening beyond this machine without --auth (anyone who can reach it can act)",
    },
  },
  run: async ({ args }) => {
    const port = Number(args.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port must be an integer from 0 to 65535, got "${args.port}"`);
    let basePath: string;
    try {
      basePath = normaliseBasePath(args["base-path"]);
    } catch (error) {
      throw new UsageError(`--base-path: ${(error as Error).message}`);
    }
    const loopback = LOOPBACK.has(args.host);
    if (!loopback && !args.auth && !args.insecure)
      throw new UsageError(
        `listening on ${args.host} exposes the dashboard beyond this machine: add --auth (with STEM_DASHBOARD_TOKEN set), or --insecure if you mean it`,
      );
    if (args.auth && !process.env.STEM_DASHBOARD_TOKEN)
      throw new UsageError("--auth needs STEM_DASHBOARD_TOKEN set to the token to require");
    // Its actions write (enqueue, replay, pause): like a worker it creates the embedded
    // store; a read-only dashboard only looks at a store that exists.
    const client = await openClient(args, [], args["read-only"] ? "read" : "write");
    const dashboard = createDashboard(client, {
      basePath,
      readOnly: Boolean(args["read-only"]),
      requireAuth: Boolean(args.auth),
      // Without credentials, a loopback dashboard answers only loopback names (DNS rebinding).
      allowedHosts: loopback && !args.auth ? ["127.0.0.1", "localhost", "::1", "[::1]"] : undefined,
    });
    const server = Bun.serve({
      hostname: args.host,
      port,
      // Server-Sent Events stay open; Bun's default idle timeout would cut them.
      idleTimeout: 0,
      fetch: dashboard.fetch,
    });
    const shown = args.host.includes(":") ? `[${args.host}]` : args.host;
    logger.info(
      `dashboard on http://${shown}:${server.port}${basePath}/${args["read-only"] ? " (read-only)" : ""}${args.auth ? " (auth required)" : ""}`,
    );
    const stop = new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    // Our handlers are in place: the startup ones (exit at once) can go.
    startupSignals.release();
    await stop;
    await shutdown();

    async function shutdown() {
      dashboard.close();
      await server.stop(true);
      await client.close();
    }
  },
});

withExamples(dashboardCommand, [
  "stem dashboard",
  "stem dashboard --host 0.0.0.0 --auth --base-path /stem   # with STEM_DASHBOARD_TOKEN set",
  "stem dashboard --read-only --port 8080",
]);
