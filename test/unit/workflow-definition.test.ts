/** Defining workflows, and finding them in a task module. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectWorkflows, loadTaskModule } from "../../src/app/task-module.ts";
import { Flow, WorkflowRegistry, WorkflowScript, isWorkflowDefinition } from "../../src/index.ts";

describe("workflow definitions", () => {
  test("Flow declares its steps in order; WorkflowScript wraps one function", () => {
    const flow = Flow({
      name: "def.flow",
      build(f) {
        f.step("a", () => 1).step("b", () => 2, { autoVersion: true });
      },
    });
    expect(flow.kind).toBe("flow");
    expect(flow.steps.map((s) => [s.name, s.options.autoVersion ?? false])).toEqual([
      ["a", false],
      ["b", true],
    ]);
    const script = WorkflowScript({ name: "def.script", run: async () => "x" });
    expect(script.kind).toBe("script");
    expect(isWorkflowDefinition(flow) && isWorkflowDefinition(script)).toBe(true);
    expect(isWorkflowDefinition({ name: "fake", run() {} })).toBe(false);
  });

  test("bad definitions are refused with the workflow and step named", () => {
    expect(() => Flow({ name: "has space", build: () => {} })).toThrow(
      "workflow name must be a non-empty string",
    );
    expect(() => Flow({ name: "empty", build: () => {} })).toThrow(
      'workflow "empty" declares no steps',
    );
    expect(() =>
      Flow({
        name: "twice",
        build(f) {
          f.step("a", () => 1);
          f.step("a", () => 2);
        },
      }),
    ).toThrow('workflow "twice": step "a" is declared twice');
    expect(() => Flow({ name: "hash", build: (f) => void f.step("a#1", () => 1) })).toThrow(
      'must not contain "#"',
    );
    expect(() => WorkflowScript({ name: "norun" } as never)).toThrow(
      'workflow "norun" needs a run(script) function',
    );
    const registry = new WorkflowRegistry([WorkflowScript({ name: "dup", run: async () => 1 })]);
    expect(() => registry.register(WorkflowScript({ name: "dup", run: async () => 2 }))).toThrow(
      'workflow "dup" is registered twice',
    );
  });

  test("a task module's workflows are found in default, named, array and object exports", () => {
    const a = WorkflowScript({ name: "mod.a", run: async () => 1 });
    const b = Flow({ name: "mod.b", build: (f) => void f.step("s", () => 1) });
    const c = WorkflowScript({ name: "mod.c", run: async () => 3 });
    expect(
      collectWorkflows({ default: [a], b, more: { c, notAWorkflow: 1 }, again: a }).map(
        (w) => w.name,
      ),
    ).toEqual(["mod.a", "mod.b", "mod.c"]);
  });

  test("two different workflows with one name in a module are refused, naming both exports", () => {
    const a = WorkflowScript({ name: "mod.same", run: async () => 1 });
    const b = Flow({ name: "mod.same", build: (f) => void f.step("s", () => 1) });
    expect(() => collectWorkflows({ default: [a], all: { b } })).toThrow(
      'two workflows are named "mod.same": exports default[0] and all.b',
    );
  });

  test("loadTaskModule accepts a module that exports only workflows, and names the file when it exports nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stem-wf-module-"));
    try {
      const src = join(import.meta.dir, "../../src/index.ts");
      writeFileSync(
        join(dir, "flows.ts"),
        `import { WorkflowScript } from ${JSON.stringify(src)};\nexport const only = WorkflowScript({ name: "only.workflow", run: async () => "ok" });\n`,
      );
      writeFileSync(join(dir, "nothing.ts"), "export const answer = 42;\n");
      const loaded = await loadTaskModule(join(dir, "flows.ts"));
      expect(loaded.tasks).toEqual([]);
      expect(loaded.workflows.map((w) => w.name)).toEqual(["only.workflow"]);
      await expect(loadTaskModule(join(dir, "nothing.ts"))).rejects.toThrow(
        /nothing\.ts exports no task.*Flow or WorkflowScript/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
