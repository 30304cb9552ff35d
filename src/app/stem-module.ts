/**
 * Makes `import ... from "stem"` inside a user's task module resolve to this copy of
 * Stem, so a user with only the compiled binary and a .ts file can run tasks, and the
 * tasks they define are the same classes the worker checks for.
 */
import * as stem from "../index.ts";

let registered = false;

export function registerStemModule(): void {
  if (registered) return;
  registered = true;
  Bun.plugin({
    name: "stem-self",
    setup(build) {
      build.module("stem", () => ({
        exports: stem as unknown as Record<string, unknown>,
        loader: "object",
      }));
    },
  });
}
