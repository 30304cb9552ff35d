/** `stem enqueue --link` / `--link-error`: task callbacks (`link` / `linkError`) from flags. */
import type { LinkedCall } from "../src/core/enqueue-options.ts";
import { UsageError, flagValues, parseJsonFlag } from "./shared.ts";

export const linkArgs = {
  link: {
    type: "string",
    description:
      "Task to start when this one succeeds, with its result as ctx.previousResult: NAME or NAME='{json args}' (repeatable)",
  },
  "link-error": {
    type: "string",
    description:
      "Task to start when this one fails for good, with args.failure {id, name, error}: NAME or NAME='{json args}' (repeatable)",
  },
} as const;

/** The callbacks given with --link and --link-error, in order. */
export function linksFrom(rawArgs: string[]): { link?: LinkedCall[]; linkError?: LinkedCall[] } {
  const link = flagValues(rawArgs, "link").map((v) => linkedCall(v, "link"));
  const linkError = flagValues(rawArgs, "link-error").map((v) => linkedCall(v, "link-error"));
  return {
    ...(link.length > 0 ? { link } : {}),
    ...(linkError.length > 0 ? { linkError } : {}),
  };
}

/** `NAME` or `NAME={json args}`. */
function linkedCall(value: string, flag: string): LinkedCall {
  const eq = value.indexOf("=");
  const name = (eq === -1 ? value : value.slice(0, eq)).trim();
  if (name === "") {
    throw new UsageError(
      `--${flag} needs a task name: NAME or NAME='{"key": "value"}' (got "${value}")`,
    );
  }
  return { name, args: eq === -1 ? {} : (parseJsonFlag(value.slice(eq + 1), flag) ?? {}) };
}
