/**
 * Makes `import ... from "stem"` inside a user's task module resolve to this copy of
 * Stem, so a user with only the compiled binary and a .ts file can run tasks, and the
 * tasks they define are the same classes the worker checks for.
 */
let registered = false;

export function registerStemModule(): void {
  if (registered) return;
  registered = true;
  Bun.plugin({
    name: "stem-self",
    setup(build) {
      // Loaded when a task module first imports "stem", not when the CLI starts.
      build.module("stem", async () => ({
        exports: (await import("../index.ts")) as unknown as Record<string, unknown>,
        loader: "object",
      }));
    },
  });
}
