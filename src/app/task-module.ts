/**
 * Loading a user's task module (`stem worker --tasks ./tasks.ts`). A module may export
 * tasks as its default export (an array or an object of tasks) or as named exports;
 * it may also export `schedules`, and workflows made with Flow() or WorkflowScript()
 * (default or named exports, alone or in arrays and objects).
 */
import { resolve } from "node:path";
import { existsSync } from "node:fs";
import { StemError } from "../core/errors.ts";
import type { AnyTaskHandler } from "../core/task.ts";
import { type AnyWorkflowDefinition, isWorkflowDefinition } from "../workflow/definition.ts";

/** True for a value shaped like a task handler. */
export function isTaskHandler(value: unknown): value is AnyTaskHandler {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as AnyTaskHandler).name === "string" &&
    typeof (value as AnyTaskHandler).run === "function"
  );
}

function tasksIn(value: unknown): AnyTaskHandler[] {
  if (isTaskHandler(value)) return [value];
  if (Array.isArray(value)) return value.filter(isTaskHandler);
  if (value && typeof value === "object") return Object.values(value).filter(isTaskHandler);
  return [];
}

/** Every task a module exports, default export first, without duplicates. */
export function collectTasks(exports: Record<string, unknown>): AnyTaskHandler[] {
  const found = new Map<string, AnyTaskHandler>();
  const candidates = [exports.default, exports.tasks, ...Object.values(exports)];
  for (const candidate of candidates) {
    for (const task of tasksIn(candidate)) if (!found.has(task.name)) found.set(task.name, task);
  }
  return [...found.values()];
}

/** Every workflow a module exports, default export first, one per name. */
export function collectWorkflows(exports: Record<string, unknown>): AnyWorkflowDefinition[] {
  const found = new Map<string, AnyWorkflowDefinition>();
  const candidates = [exports.default, exports.workflows, ...Object.values(exports)];
  for (const candidate of candidates) {
    const values = isWorkflowDefinition(candidate)
      ? [candidate]
      : Array.isArray(candidate)
        ? candidate
        : candidate && typeof candidate === "object"
          ? Object.values(candidate)
          : [];
    for (const value of values)
      if (isWorkflowDefinition(value) && !found.has(value.name)) found.set(value.name, value);
  }
  return [...found.values()];
}

/** The loaded module with its tasks and workflows. */
export interface TaskModule {
  path: string;
  tasks: AnyTaskHandler[];
  workflows: AnyWorkflowDefinition[];
  exports: Record<string, unknown>;
}

/** Imports a task module; a missing file, a failing import or no tasks is a clear error naming the file. */
export async function loadTaskModule(file: string): Promise<TaskModule> {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new StemError("not_found", `tasks file not found: ${file}`);
  }
  let exports: Record<string, unknown>;
  try {
    exports = await import(path);
  } catch (error) {
    throw new StemError(
      "invalid_argument",
      `cannot load tasks file ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const tasks = collectTasks(exports);
  const workflows = collectWorkflows(exports);
  if (tasks.length === 0 && workflows.length === 0) {
    throw new StemError(
      "invalid_argument",
      `tasks file ${file} exports no task: export tasks made with defineTask (default export array/object, or named exports), or workflows made with Flow or WorkflowScript`,
    );
  }
  return { path, tasks, workflows, exports };
}
