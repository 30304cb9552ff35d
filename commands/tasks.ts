import { defineCommand } from "citty";
import { loadTaskModule } from "../src/app/task-module.ts";
import { TaskRegistry } from "../src/core/registry.ts";
import { formatDuration } from "../src/core/duration.ts";
import { jsonArg, printJson, printTable } from "./shared.ts";

const ls = defineCommand({
  meta: { name: "ls", description: "List the tasks a module registers, with their options" },
  args: { ...jsonArg, tasks: { type: "string", description: "Tasks module", required: true } },
  run: async ({ args }) => {
    const module = await loadTaskModule(args.tasks);
    const registry = new TaskRegistry(module.tasks);
    const rows = registry.all().map(({ handler, options }) => ({
      name: handler.name,
      description: handler.metadata?.description,
      queue: options.queue,
      maxRetries: options.maxRetries,
      priority: options.priority,
      rateLimit: handler.options?.rateLimit,
      softTimeLimitMs: options.softTimeLimitMs,
      hardTimeLimitMs: options.hardTimeLimitMs,
      visibilityTimeoutMs: options.visibilityTimeoutMs,
      unique: options.unique,
    }));
    if (args.json) return printJson(rows);
    const ms = (v: number | undefined) => (v === undefined ? "" : formatDuration(v));
    printTable(
      [
        "name",
        "queue",
        "retries",
        "priority",
        "rate",
        "soft",
        "hard",
        "visibility",
        "unique",
        "description",
      ],
      rows.map((r) => [
        r.name,
        r.queue ?? "(default)",
        r.maxRetries,
        r.priority ?? 0,
        r.rateLimit,
        ms(r.softTimeLimitMs),
        ms(r.hardTimeLimitMs),
        ms(r.visibilityTimeoutMs),
        r.unique ? "yes" : "",
        r.description,
      ]),
    );
  },
});

export const tasksCommand = defineCommand({
  meta: { name: "tasks", description: "Inspect task modules" },
  subCommands: { ls },
});
