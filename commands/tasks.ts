import { defineCommand } from "citty";
import { loadTaskModule } from "../src/app/task-module.ts";
import { TaskRegistry } from "../src/core/registry.ts";
import { formatDuration } from "../src/core/duration.ts";
import { describeRateLimit } from "../src/core/rate-limit.ts";
import { withExamples } from "./output/help.ts";
import { jsonArg, out, printJson, printTable } from "./shared.ts";

const list = defineCommand({
  meta: {
    name: "list",
    alias: "ls",
    description: "List the tasks a module registers, with their options, and its workflows",
  },
  args: {
    ...jsonArg,
    tasks: { type: "string", alias: "t", description: "Tasks module", required: true },
  },
  run: async ({ args }) => {
    const module = await loadTaskModule(args.tasks);
    const registry = new TaskRegistry(module.tasks);
    const registered = registry.all();
    const tasks = registered.map(({ handler, options }) => ({
      name: handler.name,
      description: handler.metadata?.description,
      queue: options.queue,
      maxRetries: options.maxRetries,
      priority: options.priority,
      rateLimit: handler.options?.rateLimit,
      rateLimitKey: options.rateLimit?.keySpec,
      rateLimitGroup: options.rateLimit?.group,
      rateLimitFailMode: options.rateLimit?.failMode,
      softTimeLimitMs: options.softTimeLimitMs,
      hardTimeLimitMs: options.hardTimeLimitMs,
      visibilityTimeoutMs: options.visibilityTimeoutMs,
      unique: options.unique,
    }));
    const workflows = module.workflows.map((w) => ({
      name: w.name,
      kind: w.kind,
      description: w.description,
    }));
    if (args.json) return printJson({ tasks, workflows });
    const ms = (v: number | undefined) => (v === undefined ? "" : formatDuration(v));
    printTable(
      [
        "task",
        "queue",
        "retries",
        { name: "priority", optional: 3 },
        { name: "rate", optional: 4 },
        { name: "soft", optional: 5 },
        { name: "hard", optional: 6 },
        { name: "visibility", optional: 7 },
        { name: "unique", optional: 2 },
        { name: "description", optional: 1 },
      ],
      tasks.map((r, i) => [
        r.name,
        r.queue ?? "(default)",
        r.maxRetries,
        r.priority ?? 0,
        registered[i].options.rateLimit ? describeRateLimit(registered[i].options.rateLimit) : "",
        ms(r.softTimeLimitMs),
        ms(r.hardTimeLimitMs),
        ms(r.visibilityTimeoutMs),
        r.unique ? "yes" : "",
        r.description,
      ]),
    );
    if (workflows.length === 0) return;
    out("\n");
    printTable(
      ["workflow", "kind", "description"],
      workflows.map((w) => [w.name, w.kind, w.description]),
    );
  },
});

export const tasksCommand = defineCommand({
  meta: { name: "tasks", description: "Inspect task modules: the tasks and workflows they export" },
  subCommands: { list },
});

withExamples(list, ["stem tasks list -t ./tasks.ts", "stem tasks ls -t ./tasks.ts --json"]);
withExamples(tasksCommand, ["stem tasks list --tasks ./tasks.ts"]);
