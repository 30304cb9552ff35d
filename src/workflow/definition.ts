/**
 * Workflow definitions: `Flow` declares its steps up front; `WorkflowScript` is one async
 * function whose `script.step` calls are discovered as it runs. Both run the same way:
 * replayed from the top on every execution, with completed steps answered from their
 * checkpoints.
 */
import { StemError } from "../core/errors.ts";
import type { WorkflowScriptContext, WorkflowStepHandler, WorkflowStepOptions } from "./types.ts";

const BRAND = Symbol.for("stem.workflow.definition");

/** A declared Flow step. */
export interface FlowStep<Params = Record<string, unknown>> {
  name: string;
  handler: WorkflowStepHandler<unknown, Params>;
  options: WorkflowStepOptions;
}

/** A registered workflow: a name and the body the runtime replays. */
export class WorkflowDefinition<Params = Record<string, unknown>> {
  readonly [BRAND] = true;
  constructor(
    readonly name: string,
    readonly kind: "flow" | "script",
    /** The body: runs the steps through `script.step` and returns the run's result. */
    readonly body: (script: WorkflowScriptContext<Params>) => Promise<unknown>,
    /** A Flow's declared steps (empty for scripts, whose steps are found as they run). */
    readonly steps: readonly FlowStep<Params>[] = [],
    readonly description?: string,
  ) {}
}

/** Any workflow, whatever its params type (registries hold these). */
// biome-ignore lint/suspicious/noExplicitAny: workflows of any params type share one registry
export type AnyWorkflowDefinition = WorkflowDefinition<any>;

/** True for a workflow made by Flow or WorkflowScript (from any copy of Stem). */
export function isWorkflowDefinition(value: unknown): value is AnyWorkflowDefinition {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true
  );
}

/** Checks a workflow or step name: non-empty, no whitespace. */
function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || name.length === 0 || /\s/.test(name)) {
    throw new StemError(
      "invalid_argument",
      `${what} must be a non-empty string without spaces, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** Checks a step name: also no `#`, which marks versioned checkpoints. */
export function checkStepName(name: unknown, workflow: string): string {
  const checked = checkName(name, `workflow "${workflow}": step name`);
  if (checked.includes("#")) {
    throw new StemError(
      "invalid_argument",
      `workflow "${workflow}": step name "${checked}" must not contain "#"`,
    );
  }
  return checked;
}

/** Declares a Flow's steps, in order. */
export interface FlowBuilder<Params = Record<string, unknown>> {
  step<T>(
    name: string,
    handler: WorkflowStepHandler<T, Params>,
    options?: WorkflowStepOptions,
  ): FlowBuilder<Params>;
}

export interface FlowSpec<Params> {
  name: string;
  description?: string;
  build(flow: FlowBuilder<Params>): void;
}

/**
 * A workflow of declared steps, run in order; each step's result is the next one's
 * `previousResult` and the last step's result is the run's result.
 *
 * ```ts
 * const order = Flow({
 *   name: "orders.flow",
 *   build(flow) {
 *     flow.step("charge", (step) => charge(step.params.userId));
 *     flow.step("notify", (step) => notify(step.previousResult));
 *   },
 * });
 * ```
 */
export function Flow<Params = Record<string, unknown>>(
  spec: FlowSpec<Params>,
): WorkflowDefinition<Params> {
  const name = checkName(spec?.name, "workflow name");
  const steps: FlowStep<Params>[] = [];
  const builder: FlowBuilder<Params> = {
    step(stepName, handler, options = {}) {
      const checked = checkStepName(stepName, name);
      if (steps.some((s) => s.name === checked)) {
        throw new StemError(
          "invalid_argument",
          `workflow "${name}": step "${checked}" is declared twice`,
        );
      }
      if (typeof handler !== "function") {
        throw new StemError(
          "invalid_argument",
          `workflow "${name}": step "${checked}" needs a handler function`,
        );
      }
      steps.push({
        name: checked,
        handler: handler as WorkflowStepHandler<unknown, Params>,
        options,
      });
      return builder;
    },
  };
  spec.build(builder);
  if (steps.length === 0)
    throw new StemError("invalid_argument", `workflow "${name}" declares no steps`);
  const run = async (script: WorkflowScriptContext<Params>) => {
    let result: unknown;
    for (const step of steps) result = await script.step(step.name, step.handler, step.options);
    return result;
  };
  return new WorkflowDefinition<Params>(name, "flow", run, steps, spec.description);
}

export interface WorkflowScriptSpec<Params, Result> {
  name: string;
  description?: string;
  run(script: WorkflowScriptContext<Params>): Promise<Result>;
}

/**
 * A workflow written as one async function: `await script.step(name, handler)` runs each
 * step (or returns its checkpoint); whatever `run` returns is the run's result.
 */
export function WorkflowScript<Params = Record<string, unknown>, Result = unknown>(
  spec: WorkflowScriptSpec<Params, Result>,
): WorkflowDefinition<Params> {
  const name = checkName(spec?.name, "workflow name");
  if (typeof spec.run !== "function")
    throw new StemError("invalid_argument", `workflow "${name}" needs a run(script) function`);
  return new WorkflowDefinition<Params>(
    name,
    "script",
    (script) => spec.run(script),
    [],
    spec.description,
  );
}

/** Workflows by name; a name registered twice is an error. */
export class WorkflowRegistry {
  private readonly byName = new Map<string, AnyWorkflowDefinition>();

  constructor(definitions: Iterable<AnyWorkflowDefinition> = []) {
    for (const d of definitions) this.register(d);
  }

  register(definition: AnyWorkflowDefinition): this {
    if (!isWorkflowDefinition(definition)) {
      throw new StemError(
        "invalid_argument",
        "only workflows made with Flow() or WorkflowScript() can be registered",
      );
    }
    if (this.byName.has(definition.name)) {
      throw new StemError("invalid_argument", `workflow "${definition.name}" is registered twice`);
    }
    this.byName.set(definition.name, definition);
    return this;
  }

  get(name: string): AnyWorkflowDefinition | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  get size(): number {
    return this.byName.size;
  }
}
