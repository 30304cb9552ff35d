import { StemError } from "../src/core/errors.ts";

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends StemError {
  constructor(message: string) {
    super("invalid_argument", message);
    this.name = "UsageError";
  }
}
