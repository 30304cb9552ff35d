import { defineCommand } from "citty";
import { iso, jsonArg, printJson, printTable, storeArgs, watch, withClient } from "./shared.ts";

const watchArg = { watch: { type: "boolean", description: "Refresh every 2 s until Ctrl-C" } } as const;

const queues = defineCommand({
  meta: { name: "queues", description: "Depth, in flight, delayed and dead per queue" },
  args: { ...storeArgs, ...jsonArg, ...watchArg },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const render = async () => {
        const stats = await client.broker.stats();
        if (args.json) return printJson(stats);
        printTable(["queue", "pending", "in flight", "delayed", "dead"], stats.map((s) => [s.queue, s.pending, s.inflight, s.delayed, s.dead]));
      };
      await (args.watch ? watch(render) : render());
    }),
});

const workers = defineCommand({
  meta: { name: "workers", description: "Live workers from their heartbeats" },
  args: { ...storeArgs, ...jsonArg, ...watchArg },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const render = async () => {
        const beats = (await client.backend.listHeartbeats()).sort((a, b) => a.workerId.localeCompare(b.workerId));
        if (args.json) return printJson(beats);
        if (beats.length === 0) process.stderr.write("no live workers\n");
        else
          printTable(
            ["worker", "host", "pid", "queues", "concurrency", "in flight", "processed", "failed", "last seen"],
            beats.map((b) => [b.workerId, b.host, b.pid, b.queues.join(","), b.concurrency, b.inflight, b.processed, b.failed, iso(b.timestamp)]),
          );
      };
      await (args.watch ? watch(render) : render());
    }),
});

export const observeCommand = defineCommand({
  meta: { name: "observe", description: "Queue and worker overviews" },
  subCommands: { queues, workers },
});
