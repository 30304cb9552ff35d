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

/** The values in one export that pass `isIt`, each with where it is (`default[0]`, `all.send`). */
function membersOf<T>(value: unknown, from: string, isIt: (v: unknown) => v is T): [string, T][] {
  if (isIt(value)) return [[from, value]];
  if (Array.isArray(value))
    return value.flatMap((v, i): [string, T][] => (isIt(v) ? [[`${from}[${i}]`, v]] : []));
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]): [string, T][] =>
      isIt(v) ? [[`${from}.${k}`, v]] : [],
    );
  return [];
}

/**
 * Every value the module exports that passes `isIt`, default export first, one per name.
 * The same value exported twice is kept once; two different ones with one name are an
 * error naming both exports, since only one of them could ever run.
 */
function collectNamed<T extends { name: string }>(
  exports: Record<string, unknown>,
  isIt: (v: unknown) => v is T,
  kind: string,
): T[] {
  const found = new Map<string, { value: T; from: string }>();
  const candidates: [string, unknown][] = [
    ["default", exports.default],
    ...Object.entries(exports).filter(([name]) => name !== "default"),
  ];
  for (const [name, candidate] of candidates) {
    for (const [from, value] of membersOf(candidate, name, isIt)) {
      const seen = found.get(value.name);
      if (!seen) found.set(value.name, { value, from });
      else if (seen.value !== value)
        throw new StemError(
          "invalid_argument",
          `two ${kind}s are named "${value.name}": exports ${seen.from} and ${from} (${kind} names must be unique)`,
        );
    }
  }
  return [...found.values()].map((f) => f.value);
}

/** Every task a module exports, default export first; throws on two tasks with one name. */
export function collectTasks(exports: Record<string, unknown>): AnyTaskHandler[] {
  return collectNamed(exports, isTaskHandler, "task");
}

/** Every workflow a module exports, default export first; throws on two with one name. */
export function collectWorkflows(exports: Record<string, unknown>): AnyWorkflowDefinition[] {
  return collectNamed(exports, isWorkflowDefinition, "workflow");
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
    throw new StemError("invalid_argument", `tasks file not found: ${file}`);
  }
  let exports: Record<string, unknown>;
  try {
    exports = await import(path);
  } catch (error) {
    throw new StemError(
      "invalid_argument",
      `cannot load tasks file ${file}: ${describeImportError(file, path, error)}`,
      { cause: error },
    );
  }
  let tasks: AnyTaskHandler[];
  let workflows: AnyWorkflowDefinition[];
  try {
    tasks = collectTasks(exports);
    workflows = collectWorkflows(exports);
  } catch (error) {
    throw new StemError("invalid_argument", `tasks file ${file}: ${(error as Error).message}`);
  }
  if (tasks.length === 0 && workflows.length === 0) {
    throw new StemError(
      "invalid_argument",
      `tasks file ${file} exports no task: export tasks made with defineTask (default export array/object, or named exports), or workflows made with Flow or WorkflowScript`,
    );
  }
  return { path, tasks, workflows, exports };
}

/** Where Bun places a syntax error (a BuildMessage or ResolveMessage). */
interface BunPosition {
  line: number;
  column: number;
  lineText?: string;
  file?: string;
}

/**
 * A failed import in a few lines: `FILE:LINE:COLUMN: message`, then the line with a
 * caret for a syntax error (as Bun reports it), or the module's own frame for an error
 * thrown while it ran.
 */
function describeImportError(file: string, path: string, error: unknown): string {
  const errors = (error as { errors?: unknown[] })?.errors;
  const first = Array.isArray(errors) && errors.length > 0 ? errors[0] : error;
  const more = Array.isArray(errors) && errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  const message = (first as Error)?.message ?? String(first);
  const position = (first as { position?: BunPosition | null })?.position;
  if (position) {
    const where = position.file && position.file !== path ? position.file : file;
    const lines = [`${where}:${position.line}:${position.column}: ${message}${more}`];
    if (position.lineText) {
      lines.push(`  ${position.lineText}`, `  ${" ".repeat(Math.max(0, position.column - 1))}^`);
    }
    return lines.join("\n");
  }
  const stack = (first as Error)?.stack ?? "";
  const frame = stack.match(new RegExp(`${escapeRegExp(path)}:(\\d+):(\\d+)`));
  const name =
    (first as Error)?.name && (first as Error).name !== "Error" ? `${(first as Error).name}: ` : "";
  return frame ? `${file}:${frame[1]}:${frame[2]}: ${name}${message}` : `${name}${message}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
